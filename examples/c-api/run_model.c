/* run_model.c - runs a model compiled by quant-compile through its C API.
 *
 *   cc -I DIR -DQC_MODEL_HEADER='"libmodel.h"' -DQC_MODEL_PREFIX=model \
 *      run_model.c -L DIR -lmodel -Wl,-rpath,DIR -o run_model
 *   ./run_model IN_0.bin ... OUT_0.bin ...
 *
 * Each IN_k.bin holds input k's raw little-endian elements (exactly its
 * size); each OUT_k.bin receives output k's. The model's inputs and outputs
 * are listed on stdout. Exit status 1 with a one-line reason on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include QC_MODEL_HEADER

#define QC_CAT2(a, b) a##_##b
#define QC_CAT(a, b) QC_CAT2(a, b)
#define MODEL(name) QC_CAT(QC_MODEL_PREFIX, name)

static size_t dtype_size(int32_t dtype) {
  switch (dtype) {
  case 2: case 3: case 9: return 1;
  case 4: case 5: case 10: case 16: return 2;
  case 1: case 6: case 12: return 4;
  case 7: case 11: case 13: return 8;
  default: return 0;
  }
}

static size_t byte_size(const qc_tensor_info *info) {
  size_t n = dtype_size(info->dtype);
  for (int32_t d = 0; d < info->rank; ++d)
    n *= (size_t)info->shape[d];
  return n;
}

static void describe(const char *kind, int32_t i, const qc_tensor_info *info) {
  printf("%s %d: %s dtype %d [", kind, i, info->name, info->dtype);
  for (int32_t d = 0; d < info->rank; ++d)
    printf(d ? ", %lld" : "%lld", (long long)info->shape[d]);
  printf("]\n");
}

int main(int argc, char **argv) {
  int32_t ni = MODEL(num_inputs)(), no = MODEL(num_outputs)();
  if (argc != 1 + ni + no) {
    fprintf(stderr, "usage: %s IN_0.bin..IN_%d.bin OUT_0.bin..OUT_%d.bin\n",
            argv[0], ni - 1, no - 1);
    return 1;
  }
  qc_tensor *in = calloc((size_t)ni + 1, sizeof(qc_tensor));
  qc_tensor *out = calloc((size_t)no + 1, sizeof(qc_tensor));
  for (int32_t i = 0; i < ni; ++i) {
    const qc_tensor_info *info = MODEL(input_info)(i);
    describe("input", i, info);
    size_t size = byte_size(info);
    void *data = malloc(size ? size : 1);
    FILE *f = fopen(argv[1 + i], "rb");
    if (!f || fread(data, 1, size, f) != size || fgetc(f) != EOF) {
      fprintf(stderr, "error: %s must hold exactly %zu bytes for input '%s'\n",
              argv[1 + i], size, info->name);
      return 1;
    }
    fclose(f);
    in[i] = (qc_tensor){data, info->shape, info->rank, info->dtype};
  }
  for (int32_t i = 0; i < no; ++i) {
    const qc_tensor_info *info = MODEL(output_info)(i);
    describe("output", i, info);
    size_t size = byte_size(info);
    out[i] = (qc_tensor){malloc(size ? size : 1), info->shape, info->rank, info->dtype};
  }
  if (ni > 0 && in[0].rank > 0) {
    /* A tensor of another shape is refused with its position. */
    int64_t wrong[16];
    memcpy(wrong, in[0].shape, sizeof(int64_t) * (size_t)in[0].rank);
    wrong[0] += 1;
    qc_tensor saved = in[0];
    in[0].shape = wrong;
    int32_t rc = MODEL(run)(in, out);
    in[0] = saved;
    if (rc != 1) {
      fprintf(stderr, "error: a wrong input shape returned %d, expected 1\n", rc);
      return 1;
    }
  }
  int32_t rc = MODEL(run)(in, out);
  if (rc != 0) {
    fprintf(stderr, "error: the model refused tensor %d\n", rc - 1);
    return 1;
  }
  for (int32_t i = 0; i < no; ++i) {
    FILE *f = fopen(argv[1 + ni + i], "wb");
    size_t size = byte_size(MODEL(output_info)(i));
    if (!f || fwrite(out[i].data, 1, size, f) != size || fclose(f) != 0) {
      fprintf(stderr, "error: cannot write %s\n", argv[1 + ni + i]);
      return 1;
    }
  }
  printf("ok\n");
  return 0;
}
