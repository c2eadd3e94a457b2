#!/usr/bin/env bash
# The copies for the GPU machine, each part small enough for one transfer of
# the device tool (64 MiB with the working tree): built by
# bench/gpu/prepare.py and make-gemm.py into DIR/stage, staged into DIR/final/pN;
# the BERT-base libraries (86 MB) split into 30 MB parts that consecutive
# calls copy and scripts/gpu-test.sh reassembles.
#   bench/gpu/stage.sh [DIR]   (default .gpu)
set -e
cd "${1:-.gpu}"
rm -rf final && mkdir -p final
copy() { # copy SRC_DIR DEST_PART
  local src=$1 dst=final/$2/$(basename $1)
  mkdir -p $dst
  for f in $src/lib*.so $src/lib.so.xz $src/in*.npy $src/expect*.npy $src/check $src/inputs.json; do
    [ -e $f ] && cp $f $dst/
  done
  return 0
}
for d in stage/gemm-quick/* stage/gemm-timing/*; do copy $d p1/gemm; done
for d in stage/models-small/*-*; do
  case $(basename $d) in
    ppocr*|gpt*|bert-*|silero*|melspec*) copy $d p2/models ;;
    *) copy $d p1/models ;;
  esac
done
cp stage/models-small/qc-runner final/p1/
mkdir -p final/p1/refs
cp run1/refs/resnet50_in.npy run1/refs/resnet50_ort.npy final/p1/refs/
cp refs-bert/bert_base_in.npy refs-bert/bert_base_ort.npy final/p1/refs/ 2>/dev/null || echo "no bert refs"
copy stage/models-big/resnet50-int8 p3/models
copy stage/models-b32/resnet50-b32-int8 p4/models
for m in bert_base-int8:models-big bert_base-b32-int8:models-b32; do
  name=${m%%:*}; src=stage/${m##*:}/$name
  copy $src p5/models
  lib=$(ls final/p5/models/$name/lib*.so)
  split -b 30M $lib $lib.part-
  rm $lib
done
du -sh final/*
