// LayerNorm over the last dimension (GPT-2), forward and backward (ops/layernorm.ts is the reference):
//   y = (x − mean) · rstd · w + b.  One block per row.
#include "kernels.h"

namespace lora {

// out (R, W); mean, rstd (R) f32 saved; x (R, W); w, b (W).
template <typename T>
__global__ void layernorm_forward_kernel(T* out, float* mean, float* rstd, const T* x, const T* w, const T* b, int W, float eps) {
  const long long row = blockIdx.x;
  const T* xr = x + row * W;
  float sum = 0.f;
  for (int i = threadIdx.x; i < W; i += blockDim.x) sum += to_f32(xr[i]);
  const float m = block_sum(sum) / W;
  float var = 0.f; // two passes: x − m before squaring keeps the variance accurate in f32
  for (int i = threadIdx.x; i < W; i += blockDim.x) { float d = to_f32(xr[i]) - m; var += d * d; }
  const float s = rsqrtf(block_sum(var) / W + eps);
  if (threadIdx.x == 0) { mean[row] = m; rstd[row] = s; }
  for (int i = threadIdx.x; i < W; i += blockDim.x)
    out[row * W + i] = from_f32<T>((to_f32(xr[i]) - m) * s * to_f32(w[i]) + to_f32(b[i]));
}

// dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)), g = dout · w (assigned); dw += Σ dout · x̂; db += Σ dout (when non-null).
template <typename T>
__global__ void layernorm_backward_kernel(T* dx, float* dw, float* db, const T* dout, const T* x, const T* w, const float* mean, const float* rstd, int W) {
  const long long row = blockIdx.x;
  const float m = mean[row], s = rstd[row];
  float g_sum = 0.f, gx_sum = 0.f;
  for (int i = threadIdx.x; i < W; i += blockDim.x) {
    const float g = to_f32(dout[row * W + i]) * to_f32(w[i]);
    g_sum += g;
    gx_sum += g * (to_f32(x[row * W + i]) - m) * s;
  }
  const float g_mean = block_sum(g_sum) / W;
  const float gx_mean = block_sum(gx_sum) / W;
  for (int i = threadIdx.x; i < W; i += blockDim.x) {
    const float d = to_f32(dout[row * W + i]);
    const float xhat = (to_f32(x[row * W + i]) - m) * s;
    dx[row * W + i] = from_f32<T>(s * (d * to_f32(w[i]) - g_mean - xhat * gx_mean));
    if (dw) atomicAdd(&dw[i], d * xhat);
    if (db) atomicAdd(&db[i], d);
  }
}

template <typename T>
cudaError_t layernorm_forward(T* out, float* mean, float* rstd, const T* x, const T* w, const T* b, int R, int W, float eps, cudaStream_t s) {
  layernorm_forward_kernel<T><<<R, 256, 0, s>>>(out, mean, rstd, x, w, b, W, eps);
  return launch_status();
}
template <typename T>
cudaError_t layernorm_backward(T* dx, float* dw, float* db, const T* dout, const T* x, const T* w, const float* mean, const float* rstd, int R, int W, cudaStream_t s) {
  layernorm_backward_kernel<T><<<R, 256, 0, s>>>(dx, dw, db, dout, x, w, mean, rstd, W);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t layernorm_forward<T>(T*, float*, float*, const T*, const T*, const T*, int, int, float, cudaStream_t); \
  template cudaError_t layernorm_backward<T>(T*, float*, float*, const T*, const T*, const T*, const float*, const float*, int, int, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
