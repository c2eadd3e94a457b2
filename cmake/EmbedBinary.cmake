# cmake -DIN=file -DOUT=file.cpp -DSYMBOL=name -P EmbedBinary.cmake
# Writes a C++ source defining `const unsigned char SYMBOL[]` with IN's bytes
# and `const unsigned long SYMBOL_size`.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "// Generated from ${IN} by cmake/EmbedBinary.cmake.\n"
  "extern const unsigned char ${SYMBOL}[] = {${bytes}};\n"
  "extern const unsigned long ${SYMBOL}_size = ${size};\n")
