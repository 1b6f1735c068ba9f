// Combining frozen LoRA adapters with trained parameters (issue 15), as the plan's small steps (plan/steps.ts
// mix_* and fusion_*; the float64 replay of the same definitions is plan/harness-fusion.ts, and the ops they compose
// to are ops/adapter-mix.ts and ops/adapter-fusion.ts). The adapters' branches and the base linear are ordinary
// linears before these steps; here only the combination.
//
// Shapes: N token rows; W the linear's output width; K adapters of the combination, M of them at this linear;
// D the attention width, R the value's rank. Trained matrices live in the flat f32 trainables (`params`) and their
// gradients accumulate (+=) into the flat f32 gradients (`grads`) as every trainable's do; activation gradients
// are assigned unless the step says it accumulates.
//
// Learned weights (mergeable): w = softmax(θ) or θ, θ (K).
//   mix_add         out (N, W) += w[k]·delta (N, W)
//   mix_scale_bwd   ddelta = w[k]·dout
//   mix_theta_bwd   s = Σ_{n,i} dout·delta; dθ_j += J[j, k]·s with J = diag(w) − w·wᵀ (softmax) or I
// AdapterFusion attention:
//   proj            out (N, OF) [+]= x (N, IF) · W, W (IF, OF) — or trans: W (OF, IF), out = x·Wᵀ
//   proj_bwd        dW += xᵀ·dout (trans: doutᵀ·x); dx [+]= dout·Wᵀ (trans: dout·W)
//   score           dst[n, j] = ⟨a[n], b[n]⟩, dst (N, M) f32
//   softmax(_bwd)   α = softmax over M per row; ds = α ⊙ (dα − ⟨α, dα⟩)   (f32)
//   mix(_bwd)       out (= for j = 0, += after) α[:, j]·delta_j; ddelta_j = α[:, j]·dmix
//   score_bwd       dq += ds[:, j]·k_j; dk_j = ds[:, j]·q
// Limits: K ≤ 64 (θ is read into registers per thread); the products run on CUDA cores, one thread per output
// element with an f32 accumulator — correct and simple, the shapes are small (D, R ≤ a few dozen) next to the
// linears they sit beside. The weight gradients reduce over all N rows in one thread per weight element: a GPU
// session should time them first if a fusion run is slow (bench/gpu-check.ts checks their values).
#include "kernels.h"

namespace lora {

// w[k] of θ (K ≤ 64): softmax or the value itself
__device__ __forceinline__ float mix_weight(const float* theta, int K, int k, bool softmax) {
  if (!softmax) return theta[k];
  float m = -INFINITY;
  for (int j = 0; j < K; j++) m = fmaxf(m, theta[j]);
  float sum = 0.f;
  for (int j = 0; j < K; j++) sum += __expf(theta[j] - m);
  return __expf(theta[k] - m) / sum;
}

template <typename T>
__global__ void mix_add_kernel(T* out, const T* delta, const float* theta, int K, int k, bool softmax, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float w = mix_weight(theta, K, k, softmax);
  out[i] = from_f32<T>(to_f32(out[i]) + w * to_f32(delta[i]));
}

template <typename T>
__global__ void mix_scale_backward_kernel(T* dx, const T* dout, const float* theta, int K, int k, bool softmax, long long n) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  dx[i] = from_f32<T>(mix_weight(theta, K, k, softmax) * to_f32(dout[i]));
}

// one block sums its stretch of ⟨dout, delta⟩, then adds J[:, k]·partial into dθ (the sum is linear: blocks add
// their partials independently)
template <typename T>
__global__ void mix_theta_backward_kernel(float* dtheta, const T* dout, const T* delta, const float* theta, int K, int k, bool softmax, long long n) {
  float acc = 0.f;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x)
    acc += to_f32(dout[i]) * to_f32(delta[i]);
  const float s = block_sum(acc);
  if (threadIdx.x != 0) return;
  if (!softmax) {
    atomicAdd(&dtheta[k], s);
    return;
  }
  const float wk = mix_weight(theta, K, k, true);
  for (int j = 0; j < K; j++) {
    const float wj = mix_weight(theta, K, j, true);
    atomicAdd(&dtheta[j], wj * ((j == k ? 1.f : 0.f) - wk) * s);
  }
}

template <typename T>
__global__ void fusion_proj_kernel(T* out, const T* x, const float* W, long long N, int IF, int OF, bool trans, bool accumulate) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= N * OF) return;
  const long long n = i / OF;
  const int o = (int)(i % OF);
  float acc = accumulate ? to_f32(out[i]) : 0.f;
  const T* xr = x + n * IF;
  if (trans) for (int c = 0; c < IF; c++) acc += to_f32(xr[c]) * W[(long long)o * IF + c];
  else for (int c = 0; c < IF; c++) acc += to_f32(xr[c]) * W[(long long)c * OF + o];
  out[i] = from_f32<T>(acc);
}

// dx (N, IF) [+]= dout (N, OF) · Wᵀ (W (IF, OF)), or dout · W (trans: W (OF, IF))
template <typename T>
__global__ void fusion_proj_dx_kernel(T* dx, const T* dout, const float* W, long long N, int IF, int OF, bool trans, bool accumulate) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= N * IF) return;
  const long long n = i / IF;
  const int c = (int)(i % IF);
  float acc = accumulate ? to_f32(dx[i]) : 0.f;
  const T* dr = dout + n * OF;
  if (trans) for (int o = 0; o < OF; o++) acc += to_f32(dr[o]) * W[(long long)o * IF + c];
  else for (int o = 0; o < OF; o++) acc += to_f32(dr[o]) * W[(long long)c * OF + o];
  dx[i] = from_f32<T>(acc);
}

// dW element (c, o) (trans: (o, c)) += Σ_n x[n, c]·dout[n, o]; one thread per element
template <typename T>
__global__ void fusion_proj_dw_kernel(float* dW, const T* dout, const T* x, long long N, int IF, int OF, bool trans) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long long)IF * OF) return;
  const int c = trans ? (int)(i % IF) : (int)(i / OF);
  const int o = trans ? (int)(i / IF) : (int)(i % OF);
  float acc = 0.f;
  for (long long n = 0; n < N; n++) acc += to_f32(x[n * IF + c]) * to_f32(dout[n * OF + o]);
  dW[i] += acc;
}

// one warp per row: dst[n, j] = ⟨a[n], b[n]⟩
template <typename T>
__global__ void fusion_score_kernel(float* dst, const T* a, const T* b, long long N, int width, int M, int j) {
  const long long n = (long long)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  const int lane = threadIdx.x & 31;
  if (n >= N) return;
  float acc = 0.f;
  for (int e = lane; e < width; e += 32) acc += to_f32(a[n * width + e]) * to_f32(b[n * width + e]);
  acc = warp_sum(acc);
  if (lane == 0) dst[n * M + j] = acc;
}

__global__ void fusion_softmax_kernel(float* alpha, const float* scores, long long N, int M) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= N) return;
  const float* s = scores + n * M;
  float* a = alpha + n * M;
  float m = -INFINITY;
  for (int j = 0; j < M; j++) m = fmaxf(m, s[j]);
  float sum = 0.f;
  for (int j = 0; j < M; j++) sum += (a[j] = __expf(s[j] - m));
  for (int j = 0; j < M; j++) a[j] /= sum;
}

__global__ void fusion_softmax_backward_kernel(float* ds, const float* dalpha, const float* alpha, long long N, int M) {
  const long long n = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (n >= N) return;
  float mean = 0.f;
  for (int j = 0; j < M; j++) mean += alpha[n * M + j] * dalpha[n * M + j];
  for (int j = 0; j < M; j++) ds[n * M + j] = alpha[n * M + j] * (dalpha[n * M + j] - mean);
}

template <typename T>
__global__ void fusion_mix_kernel(T* out, const T* delta, const float* alpha, long long N, int W, int M, int j) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= N * W) return;
  const float a = alpha[(i / W) * M + j];
  out[i] = from_f32<T>((j > 0 ? to_f32(out[i]) : 0.f) + a * to_f32(delta[i]));
}

template <typename T>
__global__ void fusion_mix_backward_kernel(T* dx, const T* dmix, const float* alpha, long long N, int W, int M, int j) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= N * W) return;
  dx[i] = from_f32<T>(alpha[(i / W) * M + j] * to_f32(dmix[i]));
}

template <typename T>
__global__ void fusion_score_backward_kernel(T* dq, T* dk, const float* ds, const T* q, const T* k, long long N, int D, int M, int j) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= N * D) return;
  const float g = ds[(i / D) * M + j];
  dq[i] = from_f32<T>(to_f32(dq[i]) + g * to_f32(k[i]));
  dk[i] = from_f32<T>(g * to_f32(q[i]));
}

template <typename T>
cudaError_t mix_add(T* out, const T* delta, const float* theta, int K, int k, bool softmax, long long n, cudaStream_t s) {
  mix_add_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(out, delta, theta, K, k, softmax, n);
  return launch_status();
}
template <typename T>
cudaError_t mix_scale_backward(T* dx, const T* dout, const float* theta, int K, int k, bool softmax, long long n, cudaStream_t s) {
  mix_scale_backward_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(dx, dout, theta, K, k, softmax, n);
  return launch_status();
}
template <typename T>
cudaError_t mix_theta_backward(float* dtheta, const T* dout, const T* delta, const float* theta, int K, int k, bool softmax, long long n, cudaStream_t s) {
  const unsigned blocks = ceil_div(n, 256) < 1024 ? ceil_div(n, 256) : 1024;
  mix_theta_backward_kernel<T><<<blocks > 0 ? blocks : 1, 256, 0, s>>>(dtheta, dout, delta, theta, K, k, softmax, n);
  return launch_status();
}
template <typename T>
cudaError_t fusion_proj(T* out, const T* x, const float* W, long long N, int IF, int OF, bool trans, bool accumulate, cudaStream_t s) {
  fusion_proj_kernel<T><<<ceil_div(N * OF, 256), 256, 0, s>>>(out, x, W, N, IF, OF, trans, accumulate);
  return launch_status();
}
template <typename T>
cudaError_t fusion_proj_backward(T* dx, float* dW, const T* dout, const T* x, const float* W, long long N, int IF, int OF, bool trans, bool dxAccumulate, cudaStream_t s) {
  fusion_proj_dw_kernel<T><<<ceil_div((long long)IF * OF, 256), 256, 0, s>>>(dW, dout, x, N, IF, OF, trans);
  if (dx) fusion_proj_dx_kernel<T><<<ceil_div(N * IF, 256), 256, 0, s>>>(dx, dout, W, N, IF, OF, trans, dxAccumulate);
  return launch_status();
}
template <typename T>
cudaError_t fusion_score(float* dst, const T* a, const T* b, long long N, int width, int M, int j, cudaStream_t s) {
  fusion_score_kernel<T><<<ceil_div(N, 8), 256, 0, s>>>(dst, a, b, N, width, M, j); // 8 warps, one row each
  return launch_status();
}
cudaError_t fusion_softmax(float* alpha, const float* scores, long long N, int M, cudaStream_t s) {
  fusion_softmax_kernel<<<ceil_div(N, 256), 256, 0, s>>>(alpha, scores, N, M);
  return launch_status();
}
cudaError_t fusion_softmax_backward(float* ds, const float* dalpha, const float* alpha, long long N, int M, cudaStream_t s) {
  fusion_softmax_backward_kernel<<<ceil_div(N, 256), 256, 0, s>>>(ds, dalpha, alpha, N, M);
  return launch_status();
}
template <typename T>
cudaError_t fusion_mix(T* out, const T* delta, const float* alpha, long long N, int W, int M, int j, cudaStream_t s) {
  fusion_mix_kernel<T><<<ceil_div(N * W, 256), 256, 0, s>>>(out, delta, alpha, N, W, M, j);
  return launch_status();
}
template <typename T>
cudaError_t fusion_mix_backward(T* dx, const T* dmix, const float* alpha, long long N, int W, int M, int j, cudaStream_t s) {
  fusion_mix_backward_kernel<T><<<ceil_div(N * W, 256), 256, 0, s>>>(dx, dmix, alpha, N, W, M, j);
  return launch_status();
}
template <typename T>
cudaError_t fusion_score_backward(T* dq, T* dk, const float* ds, const T* q, const T* k, long long N, int D, int M, int j, cudaStream_t s) {
  fusion_score_backward_kernel<T><<<ceil_div(N * D, 256), 256, 0, s>>>(dq, dk, ds, q, k, N, D, M, j);
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t mix_add<T>(T*, const T*, const float*, int, int, bool, long long, cudaStream_t); \
  template cudaError_t mix_scale_backward<T>(T*, const T*, const float*, int, int, bool, long long, cudaStream_t); \
  template cudaError_t mix_theta_backward<T>(float*, const T*, const T*, const float*, int, int, bool, long long, cudaStream_t); \
  template cudaError_t fusion_proj<T>(T*, const T*, const float*, long long, int, int, bool, bool, cudaStream_t); \
  template cudaError_t fusion_proj_backward<T>(T*, float*, const T*, const T*, const float*, long long, int, int, bool, bool, cudaStream_t); \
  template cudaError_t fusion_score<T>(float*, const T*, const T*, long long, int, int, int, cudaStream_t); \
  template cudaError_t fusion_mix<T>(T*, const T*, const float*, long long, int, int, int, cudaStream_t); \
  template cudaError_t fusion_mix_backward<T>(T*, const T*, const float*, long long, int, int, int, cudaStream_t); \
  template cudaError_t fusion_score_backward<T>(T*, T*, const float*, const T*, const T*, long long, int, int, int, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
