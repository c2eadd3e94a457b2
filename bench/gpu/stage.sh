#!/usr/bin/env bash
# The copies for the GPU machine, each part small enough for one transfer of
# the device tool (64 MiB with the working tree): built by
# bench/gpu/prepare.py and make-gemm.py into DIR/stage2 (and DIR/stage for BERT-base at batch 1), staged into DIR/fin/fN;
# the BERT-base libraries (86 MB) split into 30 MB parts that consecutive
# calls copy and scripts/gpu-test.sh reassembles.
#   bench/gpu/stage.sh [DIR]   (default .gpu)
set -e
cd "${1:-.gpu}"
rm -rf fin && mkdir -p fin
copy() { local src=$1 dst=fin/$2/$(basename $1); mkdir -p $dst; for f in $src/lib*.so $src/lib.so.xz $src/in*.npy $src/expect*.npy $src/check $src/inputs.json; do [ -e $f ] && cp $f $dst/; done; return 0; }
R=stage2/models-small/qc-runner
for d in stage2/gemm-quick/gemm_* stage2/gemm-timing/gemm_*; do copy $d f1/gemm; done
mkdir -p fin/f1/refs && cp run1/refs/resnet50_* refs-bert/bert_base_* fin/f1/refs/
for d in stage2/models-small/*-float stage2/models-small/*-int8; do
  case $(basename $d) in ppocr*|gpt*|bert-*|silero*|melspec*) copy $d f3/models ;; *) copy $d f2/models ;; esac
done
copy stage2/models-big/resnet50-int8 f4/models
copy stage2/models-b32/resnet50-b32-int8 f5/models
copy stage2/models-b32/bert_base-b32-int8 f6/models
(cd fin/f6/models/bert_base-b32-int8 && split -b 31M libbert_base.so libbert_base.so.part- && rm libbert_base.so)
copy stage/models-big/bert_base-int8 f9/models
(cd fin/f9/models/bert_base-int8 && split -b 31M libbert_base.so libbert_base.so.part- && rm libbert_base.so)
for p in fin/*/; do cp $R $p/qc-runner; for m in $p/models $p/gemm; do [ -d $m ] && cp $R $m/qc-runner; done; done
# Parts over the limit: the 2048-wide GEMM cases go with the ResNet-50 parts.
mkdir -p fin/f4/gemm fin/f5/gemm
mv fin/f1/gemm/gemm_1x2048x2048_* fin/f4/gemm/
mv fin/f1/gemm/gemm_4x2048x2048_* fin/f5/gemm/
mkdir -p fin/f2/gemm && mv fin/f1/gemm/gemm_16x2048x2048_* fin/f2/gemm/
for g in fin/f2/gemm fin/f4/gemm fin/f5/gemm; do cp $R $g/qc-runner; done
du -sh fin/*
