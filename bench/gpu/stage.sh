#!/usr/bin/env bash
# The copies for the GPU machine, each part small enough for one transfer of
# the device tool (64 MiB with the working tree), for the sm_90a lease of
# docs/benchmarks-gpu.md: built into DIR by
#   bench/gpu/make-gemm.py DIR/gemm-quick   --set quick --target cuda:sm_90a --compile build/bin
#                                           (+ --shapes 1000x1000x520,2048x1100x304, 2304x2048x520 requant)
#   bench/gpu/make-gemm.py DIR/gemm-timing  --set bench --variants plain,requant --timing --target cuda:sm_90a
#   bench/gpu/make-gemm.py DIR/gemm-timing2 --shapes {2,4,8,32,64}x4096x4096 --variants plain --timing --target cuda:sm_90a
#   bench/gpu/prepare.py build/bin DIR/models-big --only resnet50,bert_base,ppocr_mobile_v2_cls,embedding_model,gpt,bert --modes int8 --target cuda:sm_90a
#   bench/gpu/prepare.py build/bin DIR/models-float --only ppocr_mobile_v2_cls,melspectrogram,silero_vad,embedding_model,gpt,bert --modes float --target cuda:sm_90a
#   bench/gpu/prepare.py build/bin DIR/models-b32 --only resnet50,bert_base --modes int8 --batch 32 --calib 1 --target cuda:sm_90a
# and, for comparison in the same run, the sm_90 (mma.sync) timing builds of
# the previous lease in SYNC (its W4A8 GEMVs, and the large GEMMs renamed
# *_plainsync). The BERT-base libraries (86 MB) go in 31 MB parts that
# consecutive calls copy (carried paths stay on the warm machine) and
# scripts/gpu-test.sh reassembles; parts p1 .. p10, run in order.
#   bench/gpu/stage.sh DIR SYNC RUNNER REFS...
set -e
dir=${1:?usage: stage.sh DIR SYNC RUNNER REFS...}
sync=${2:?}
runner=${3:?}
shift 3
cd "$dir"
rm -rf parts && mkdir -p parts
copy() { # copy SRC PART/SUBDIR [NAME]
  local src=$1 dst=parts/$2/${3:-$(basename $1)}
  mkdir -p $dst
  for f in $src/lib*.so $src/lib.so.xz $src/in*.npy $src/expect*.npy $src/check $src/inputs.json; do
    [ -e $f ] && cp $f $dst/
  done
  return 0
}
for d in gemm-quick/gemm_*; do
  case $d in *5x4096x4096*|*2048x1100x304_plain|*1000x1000x520_zp) continue ;; esac
  copy $d p1/gemm
done
for d in gemm-timing/gemm_* gemm-timing2/gemm_*; do copy $d p1/gemm; done
for s in 1 4 16; do copy $sync/gemm_${s}x4096x4096_w4 p1/gemm; done
for s in 128x4096x4096 4096x4096x4096 8192x8192x8192; do
  copy $sync/gemm_${s}_plain p1/gemm gemm_${s}_plainsync
done
mkdir -p parts/p1/refs && cp "$@" parts/p1/refs/
for m in ppocr_mobile_v2_cls embedding_model resnet50; do copy models-big/$m-int8 p2/models; done
copy models-b32/resnet50-b32-int8 p3/models
for m in gpt-int8 bert-int8; do copy models-big/$m p10/models; done
for d in models-float/*-float; do copy $d p10/models; done
copy models-b32/bert_base-b32-int8 p4/models
copy models-big/bert_base-int8 p7/models
for p in p4 p7; do
  (cd parts/$p/models/*/ && split -b 31M libbert_base.so libbert_base.so.part- && rm libbert_base.so)
done
# Parts 5, 6 / 8, 9: the second and third pieces, into the same directories.
for pair in "p4 p5 p6" "p7 p8 p9"; do
  set -- $pair
  m=$(ls parts/$1/models)
  mkdir -p parts/$2/models/$m parts/$3/models/$m
  mv parts/$1/models/$m/libbert_base.so.part-ab parts/$2/models/$m/
  mv parts/$1/models/$m/libbert_base.so.part-ac parts/$3/models/$m/
done
for p in parts/*/; do
  cp $runner $p/qc-runner
  for m in $p/models $p/gemm; do [ -d $m ] && cp $runner $m/qc-runner; done
done
du -sh parts/*
