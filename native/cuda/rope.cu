// Rotary embedding, rotate-half layout (ops/rope.ts is the reference). cos, sin (N, HD) f32 come from the host's
// ropeTables (one upload per batch, shared by every layer), so every executor rotates by the same angles.
//   forward:  y1 = x1·cos − x2·sin,  y2 = x2·cos + x1·sin
//   backward: dx1 = d1·cos + d2·sin, dx2 = d2·cos − d1·sin   (the rotation's transpose)
// One thread per (row, head, j < HD/2) pair; out may alias x (in-place rotation is safe: each thread owns its pair).
#include "kernels.h"

namespace lora {

template <typename T>
__global__ void rope_kernel(T* out, const T* x, const float* cos, const float* sin, long long N, int H, int HD, bool backward) {
  const int half = HD / 2;
  const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N * H * half) return;
  const int j = (int)(idx % half);
  const long long nh = idx / half; // (row, head)
  const long long n = nh / H;
  const long long o = nh * HD;
  const float c = cos[n * HD + j], sn = sin[n * HD + j]; // both halves hold the same angle
  const float a = to_f32(x[o + j]), b = to_f32(x[o + j + half]);
  if (!backward) {
    out[o + j] = from_f32<T>(a * c - b * sn);
    out[o + j + half] = from_f32<T>(b * c + a * sn);
  } else {
    out[o + j] = from_f32<T>(a * c + b * sn);
    out[o + j + half] = from_f32<T>(b * c - a * sn);
  }
}

template <typename T>
cudaError_t rope_forward(T* out, const T* x, const float* cos, const float* sin, long long N, int H, int HD, cudaStream_t s) {
  rope_kernel<T><<<ceil_div(N * H * (HD / 2), 256), 256, 0, s>>>(out, x, cos, sin, N, H, HD, false);
  return launch_status();
}
template <typename T>
cudaError_t rope_backward(T* dx, const T* dout, const float* cos, const float* sin, long long N, int H, int HD, cudaStream_t s) {
  rope_kernel<T><<<ceil_div(N * H * (HD / 2), 256), 256, 0, s>>>(dx, dout, cos, sin, N, H, HD, true);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t rope_forward<T>(T*, const T*, const float*, const float*, long long, int, int, cudaStream_t); \
  template cudaError_t rope_backward<T>(T*, const T*, const float*, const float*, long long, int, int, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
