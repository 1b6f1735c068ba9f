// RMSNorm over the last dimension, forward and backward (ops/rmsnorm.ts is the float64 reference):
//   y = x · rstd · w_eff,  rstd = 1/sqrt(mean(x²) + eps),  w_eff = w or (1 + w) (Gemma).
// One block per row; rows are N (hidden norm) or N·heads (Qwen3 per-head q/k norm, W = HD).
#include "kernels.h"

namespace lora {

// out (R, W), rstd (R) f32 saved for backward; x (R, W); w (W).
template <typename T>
__global__ void rmsnorm_forward_kernel(T* out, float* rstd, const T* x, const T* w, int W, float eps, bool plus_one) {
  const long long row = blockIdx.x;
  const T* xr = x + row * W;
  float ss = 0.f;
  for (int i = threadIdx.x; i < W; i += blockDim.x) { float v = to_f32(xr[i]); ss += v * v; }
  const float s = rsqrtf(block_sum(ss) / W + eps);
  if (threadIdx.x == 0) rstd[row] = s;
  for (int i = threadIdx.x; i < W; i += blockDim.x) {
    const float wi = to_f32(w[i]);
    out[row * W + i] = from_f32<T>(to_f32(xr[i]) * s * (plus_one ? 1.f + wi : wi));
  }
}

// dx (R, W) = rstd · (g − x̂ · mean(g · x̂)), g = dout · w_eff (assigned); dw (W) += Σ_r dout · x̂ when non-null.
template <typename T>
__global__ void rmsnorm_backward_kernel(T* dx, float* dw, const T* dout, const T* x, const T* w, const float* rstd, int W, bool plus_one) {
  const long long row = blockIdx.x;
  const float s = rstd[row];
  float dot = 0.f;
  for (int i = threadIdx.x; i < W; i += blockDim.x) {
    const float wi = to_f32(w[i]);
    dot += to_f32(dout[row * W + i]) * (plus_one ? 1.f + wi : wi) * to_f32(x[row * W + i]) * s;
  }
  const float mean = block_sum(dot) / W;
  for (int i = threadIdx.x; i < W; i += blockDim.x) {
    const float wi = to_f32(w[i]);
    const float xhat = to_f32(x[row * W + i]) * s;
    const float d = to_f32(dout[row * W + i]);
    dx[row * W + i] = from_f32<T>(s * (d * (plus_one ? 1.f + wi : wi) - xhat * mean));
    if (dw) atomicAdd(&dw[i], d * xhat); // norm weights are frozen under LoRA: this path is for full fine-tuning
  }
}

template <typename T>
cudaError_t rmsnorm_forward(T* out, float* rstd, const T* x, const T* w, int R, int W, float eps, bool plus_one, cudaStream_t s) {
  rmsnorm_forward_kernel<T><<<R, 256, 0, s>>>(out, rstd, x, w, W, eps, plus_one);
  return launch_status();
}
template <typename T>
cudaError_t rmsnorm_backward(T* dx, float* dw, const T* dout, const T* x, const T* w, const float* rstd, int R, int W, bool plus_one, cudaStream_t s) {
  rmsnorm_backward_kernel<T><<<R, 256, 0, s>>>(dx, dw, dout, x, w, rstd, W, plus_one);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t rmsnorm_forward<T>(T*, float*, const T*, const T*, int, int, float, bool, cudaStream_t); \
  template cudaError_t rmsnorm_backward<T>(T*, float*, const T*, const T*, const T*, const float*, int, int, bool, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
