// Fused AdamW over every trainable tensor at once: the trainables, their gradient accumulator and both moments are
// each ONE flat f32 buffer (the TS layout of trainableLayout), so an update is two launches whatever the model.
// Same arithmetic, in the same order, as the CPU executor's update graph (executors/onnx/graphs.ts):
//   g = acc · inv_tokens;  coef = min(1, clip / (‖g‖ + 1e-6));  gc = g · coef
//   p ← p − lr·wd·decay·p;  m ← b1·m + (1−b1)·gc;  v ← b2·v + (1−b2)·gc²;  p ← p − lr·(m/bc1) / (sqrt(v/bc2) + eps)
// The norm stays on the device between the two launches (no host round trip); the accumulator is zeroed in place.
#include "kernels.h"

namespace lora {

__global__ void grad_sq_norm_kernel(double* out, const float* acc, float inv_tokens, long long n) {
  float s = 0.f;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    const float g = acc[i] * inv_tokens;
    s += g * g;
  }
  s = block_sum(s);
  if (threadIdx.x == 0) atomicAdd(out, (double)s);
}

__global__ void adamw_kernel(float* p, float* m, float* v, float* acc, const uint8_t* decay, const double* sq_norm, AdamwArgs a, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float norm = (float)sqrt(*sq_norm);
  const float coef = fminf(1.f, a.clip_max / (norm + 1e-6f));
  const float gc = acc[i] * a.inv_tokens * coef;
  float pi = p[i];
  if (decay[i]) pi -= a.lr * a.weight_decay * pi;
  const float mi = a.beta1 * m[i] + (1.f - a.beta1) * gc;
  const float vi = a.beta2 * v[i] + (1.f - a.beta2) * gc * gc;
  p[i] = pi - a.lr * ((mi / a.bias_corr1) / (sqrtf(vi / a.bias_corr2) + a.eps));
  m[i] = mi;
  v[i] = vi;
  acc[i] = 0.f;
}

cudaError_t adamw_update(float* p, float* m, float* v, float* acc, const uint8_t* decay, double* sq_norm_scratch, const AdamwArgs& a, long long n, cudaStream_t s) {
  cudaError_t e = cudaMemsetAsync(sq_norm_scratch, 0, sizeof(double), s);
  if (e != cudaSuccess) return e;
  grad_sq_norm_kernel<<<256, 256, 0, s>>>(sq_norm_scratch, acc, a.inv_tokens, n);
  adamw_kernel<<<ceil_div(n, 256), 256, 0, s>>>(p, m, v, acc, decay, sq_norm_scratch, a, n);
  return launch_status();
}

} // namespace lora
