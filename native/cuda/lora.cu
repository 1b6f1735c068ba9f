// The LoRA branch of a linear layer (ops/linear.ts is the float64 reference), PEFT's definition:
//   y = base(x) + scale · (dropout(x) · Aᵀ) · Bᵀ,   A (r, IC) and B (OC, r) f32 masters, x and y in act_t.
// Forward: lora_down reads x once (dropout applied on the fly from a keep mask) into h (N, r) f32; lora_up adds
// scale·h·Bᵀ into the base product in place. Backward: lora_dh gives dh = scale·dout·B (N, r); lora_dB sums
// scale·doutᵀ·h; lora_dx_dA then reads x once more to produce dA (Σ dhᵀ·xd) and dx += keep ⊙ (dh·A) together.
// Ranks up to 64 (per-thread accumulators are registers); larger ranks are refused with cudaErrorInvalidValue.
// Dropout keep masks are uint8 (N, IC): uploaded from the host (batch-inputs.ts' seeded masks, for exact parity
// with the CPU executor) or generated here by dropout_keep_mask from a counter hash (fast path).
#include "kernels.h"

namespace lora {

// A 32-bit counter hash (murmur3's finalizer over seed, stream, index): one uniform draw per element, no state.
__device__ __forceinline__ uint32_t mix32(uint32_t h) {
  h ^= h >> 16; h *= 0x85ebca6bu; h ^= h >> 13; h *= 0xc2b2ae35u; h ^= h >> 16;
  return h;
}
__global__ void dropout_keep_mask_kernel(uint8_t* keep, long long n, uint32_t seed, uint32_t stream, float keep_prob) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const uint32_t u = mix32(mix32(seed ^ mix32(stream)) ^ (uint32_t)i ^ mix32((uint32_t)(i >> 32)));
  keep[i] = (u >> 8) * (1.f / 16777216.f) < keep_prob ? 1 : 0;
}

// h (N, r) = xd · Aᵀ, xd = x ⊙ keep · keep_scale. One warp per row; lane-partial sums then warp reductions.
template <typename T, int R>
__global__ void lora_down_kernel(float* h, const T* x, const uint8_t* keep, float keep_scale, const float* A, long long N, int IC, int r) {
  const long long n = (long long)blockIdx.x * (blockDim.x / 32) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (n >= N) return;
  float acc[R] = {};
  for (int i = lane; i < IC; i += 32) {
    float xv = to_f32(x[n * IC + i]);
    if (keep) xv = keep[n * IC + i] ? xv * keep_scale : 0.f;
    #pragma unroll
    for (int k = 0; k < R; k++) if (k < r) acc[k] += xv * A[(long long)k * IC + i];
  }
  #pragma unroll
  for (int k = 0; k < R; k++) {
    if (k >= r) break;
    const float s = warp_sum(acc[k]);
    if (lane == 0) h[n * r + k] = s;
  }
}

// y (N, OC) += scale · h (N, r) · Bᵀ, B (OC, r). One thread per output element.
template <typename T>
__global__ void lora_up_kernel(T* y, const float* h, const float* B, float scale, long long N, int OC, int r) {
  const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= N * OC) return;
  const long long n = idx / OC;
  const int o = (int)(idx % OC);
  float acc = 0.f;
  for (int k = 0; k < r; k++) acc += h[n * r + k] * B[(long long)o * r + k];
  y[idx] = from_f32<T>(to_f32(y[idx]) + scale * acc);
}

// dh (N, r) = scale · dout (N, OC) · B (OC, r). One warp per row.
template <typename T, int R>
__global__ void lora_dh_kernel(float* dh, const T* dout, const float* B, float scale, long long N, int OC, int r) {
  const long long n = (long long)blockIdx.x * (blockDim.x / 32) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (n >= N) return;
  float acc[R] = {};
  for (int o = lane; o < OC; o += 32) {
    const float d = to_f32(dout[n * OC + o]);
    #pragma unroll
    for (int k = 0; k < R; k++) if (k < r) acc[k] += d * B[(long long)o * r + k];
  }
  #pragma unroll
  for (int k = 0; k < R; k++) {
    if (k >= r) break;
    const float s = warp_sum(acc[k]);
    if (lane == 0) dh[n * r + k] = scale * s;
  }
}

// dB (OC, r) += scale · Σ_n dout[n, o] · h[n, k]. Thread per column o, rows split over blockIdx.y, one atomic each.
template <typename T, int R>
__global__ void lora_dB_kernel(float* dB, const T* dout, const float* h, float scale, long long N, int OC, int r) {
  const int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= OC) return;
  float acc[R] = {};
  for (long long n = blockIdx.y; n < N; n += gridDim.y) {
    const float d = to_f32(dout[n * OC + o]);
    #pragma unroll
    for (int k = 0; k < R; k++) if (k < r) acc[k] += d * h[n * r + k];
  }
  #pragma unroll
  for (int k = 0; k < R; k++) if (k < r) atomicAdd(&dB[(long long)o * r + k], scale * acc[k]);
}

// One pass over x: dA (r, IC) += Σ_n dh[n, k] · xd[n, i] and, when dx is non-null, dx[n, i] += keep ⊙ Σ_k dh[n, k]·A[k, i].
// Thread per column i holding A[:, i] and its dA partials in registers; rows split over blockIdx.y.
template <typename T, int R>
__global__ void lora_dx_dA_kernel(T* dx, float* dA, const T* x, const uint8_t* keep, float keep_scale, const float* dh, const float* A, long long N, int IC, int r) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= IC) return;
  float a[R], acc[R];
  #pragma unroll
  for (int k = 0; k < R; k++) { a[k] = k < r ? A[(long long)k * IC + i] : 0.f; acc[k] = 0.f; }
  for (long long n = blockIdx.y; n < N; n += gridDim.y) {
    const float mult = keep ? (keep[n * IC + i] ? keep_scale : 0.f) : 1.f;
    const float xd = to_f32(x[n * IC + i]) * mult;
    float g = 0.f;
    #pragma unroll
    for (int k = 0; k < R; k++) {
      if (k < r) {
        const float d = dh[n * r + k];
        acc[k] += d * xd;
        g += d * a[k];
      }
    }
    if (dx) dx[n * IC + i] = from_f32<T>(to_f32(dx[n * IC + i]) + mult * g);
  }
  #pragma unroll
  for (int k = 0; k < R; k++) if (k < r) atomicAdd(&dA[(long long)k * IC + i], acc[k]);
}

#define DISPATCH_R(r, CALL)                                   \
  if (r <= 8) { CALL(8); }                                    \
  else if (r <= 16) { CALL(16); }                             \
  else if (r <= 32) { CALL(32); }                             \
  else if (r <= 64) { CALL(64); }                             \
  else return cudaErrorInvalidValue;

static unsigned row_split(long long N) { return (unsigned)(N < 128 ? N : 128); }

cudaError_t dropout_keep_mask(uint8_t* keep, long long n, uint32_t seed, uint32_t stream, float keep_prob, cudaStream_t s) {
  dropout_keep_mask_kernel<<<ceil_div(n, 256), 256, 0, s>>>(keep, n, seed, stream, keep_prob);
  return launch_status();
}

template <typename T>
cudaError_t lora_forward(T* y, float* h, const T* x, const uint8_t* keep, float keep_scale, const float* A, const float* B, float scale, long long N, int IC, int OC, int r, cudaStream_t s) {
#define CALL(R) lora_down_kernel<T, R><<<ceil_div(N, 8), 256, 0, s>>>(h, x, keep, keep_scale, A, N, IC, r)
  DISPATCH_R(r, CALL)
#undef CALL
  lora_up_kernel<T><<<ceil_div(N * OC, 256), 256, 0, s>>>(y, h, B, scale, N, OC, r);
  return launch_status();
}

template <typename T>
cudaError_t lora_backward(T* dx, float* dA, float* dB, float* dh, const T* dout, const T* x, const uint8_t* keep, float keep_scale, const float* h, const float* A, const float* B, float scale, long long N, int IC, int OC, int r, cudaStream_t s) {
#define CALL(R)                                                                                                   \
  lora_dh_kernel<T, R><<<ceil_div(N, 8), 256, 0, s>>>(dh, dout, B, scale, N, OC, r);                              \
  lora_dB_kernel<T, R><<<dim3(ceil_div(OC, 128), row_split(N)), 128, 0, s>>>(dB, dout, h, scale, N, OC, r);       \
  lora_dx_dA_kernel<T, R><<<dim3(ceil_div(IC, 128), row_split(N)), 128, 0, s>>>(dx, dA, x, keep, keep_scale, dh, A, N, IC, r)
  DISPATCH_R(r, CALL)
#undef CALL
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t lora_forward<T>(T*, float*, const T*, const uint8_t*, float, const float*, const float*, float, long long, int, int, int, cudaStream_t); \
  template cudaError_t lora_backward<T>(T*, float*, float*, float*, const T*, const T*, const uint8_t*, float, const float*, const float*, const float*, float, long long, int, int, int, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
