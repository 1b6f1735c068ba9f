// Self-attention (causal for decoders, bidirectional for encoders) with grouped KV heads and a padding mask, forward
// and backward, without materialising the
// T×T score matrix (flash-style: key/query tiles in shared memory, online softmax, log-sum-exp saved for backward).
// ops/attention.ts is the float64 reference. Layouts (row n = b·T + t):
//   q, out, dq (N, NH·HD); k, v, dk, dv (N, NKV·HD); lse, delta (B, NH, T) f32.
// Query head h reads KV head h / G, G = NH / NKV. Key j is visible to query i when j ≤ i (causal only), key j is a real token
// (mask), both are in the same packed example (segments, may be null) and i − j < window (window ≤ 0: none);
// the reference's additive −1e9 bias gives exactly these weights for any row with a visible key. A query with no
// visible key (a padded position under left padding) outputs 0 here where the reference outputs a near-uniform mix:
// such rows are neither attended nor trained, so loss and gradients agree; compare logits on real rows only.
//
// Readable first: one warp per row, each lane holding HD/32 elements of it (EPL), scores by warp reductions.
// Tensor-core tiles (mma.sync / wgmma) are the next step for speed; the interface stays the same.
#include "kernels.h"

namespace lora {

constexpr int ROWS = 8; // warps per block = rows (queries, or keys in dK/dV) per block
constexpr int TILE = 32; // rows of the other side staged in shared memory per step

struct AttnMask { // visibility of key j to query i
  const uint8_t* mask; // (B, T) 1 = real token
  const int* segments; // (B, T) or null
  int window;          // ≤ 0: none
  bool causal;         // false: keys after the query are visible too (encoders)
  __device__ __forceinline__ bool visible(int b, int T, int i, int j) const {
    if ((causal && j > i) || !mask[(long long)b * T + j]) return false;
    if (segments && segments[(long long)b * T + i] != segments[(long long)b * T + j]) return false;
    return window <= 0 || i - j < window;
  }
};

// Loads rows [r0, r0 + TILE) of head `head` of x (N, H·HD) for batch b into dst[TILE][HD] as f32 (0 past T).
template <typename T>
__device__ void stage_rows(float* dst, const T* x, int b, int T_, int H, int head, int HD, int r0) {
  for (int idx = threadIdx.x; idx < TILE * HD; idx += blockDim.x) {
    const int r = idx / HD, d = idx % HD, t = r0 + r;
    dst[idx] = t < T_ ? to_f32(x[(((long long)b * T_ + t) * H + head) * HD + d]) : 0.f;
  }
}

template <typename T, int EPL>
__global__ void attention_forward_kernel(T* out, float* lse, const T* q, const T* k, const T* v, AttnMask m, int T_, int NH, int NKV, int HD, float scale) {
  extern __shared__ float smem[];
  float* Ks = smem;              // [TILE][HD]
  float* Vs = smem + TILE * HD;  // [TILE][HD]
  const int b = blockIdx.z, h = blockIdx.y, kh = h / (NH / NKV);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int i = blockIdx.x * ROWS + warp;
  float qr[EPL], o[EPL];
  #pragma unroll
  for (int e = 0; e < EPL; e++) {
    const int d = lane + 32 * e;
    qr[e] = (i < T_ && d < HD) ? to_f32(q[(((long long)b * T_ + i) * NH + h) * HD + d]) : 0.f;
    o[e] = 0.f;
  }
  float mx = -INFINITY, l = 0.f;
  // causal: no key past the block's last query (or past this row's own position); bidirectional: every key
  const int last = m.causal ? min(T_ - 1, blockIdx.x * ROWS + ROWS - 1) : T_ - 1;
  const int own = m.causal ? i : T_ - 1;
  for (int j0 = 0; j0 <= last; j0 += TILE) {
    __syncthreads();
    stage_rows(Ks, k, b, T_, NKV, kh, HD, j0);
    stage_rows(Vs, v, b, T_, NKV, kh, HD, j0);
    __syncthreads();
    if (i >= T_) continue;
    for (int jj = 0; jj < TILE && j0 + jj <= own; jj++) {
      const int j = j0 + jj;
      if (!m.visible(b, T_, i, j)) continue; // uniform across the warp: no divergence around the shuffles
      float s = 0.f;
      #pragma unroll
      for (int e = 0; e < EPL; e++) { const int d = lane + 32 * e; if (d < HD) s += qr[e] * Ks[jj * HD + d]; }
      s = warp_sum(s) * scale;
      const float mn = fmaxf(mx, s);
      const float corr = __expf(mx - mn), p = __expf(s - mn);
      l = l * corr + p;
      #pragma unroll
      for (int e = 0; e < EPL; e++) { const int d = lane + 32 * e; if (d < HD) o[e] = o[e] * corr + p * Vs[jj * HD + d]; }
      mx = mn;
    }
  }
  if (i >= T_) return;
  const float inv = l > 0.f ? 1.f / l : 0.f;
  #pragma unroll
  for (int e = 0; e < EPL; e++) {
    const int d = lane + 32 * e;
    if (d < HD) out[(((long long)b * T_ + i) * NH + h) * HD + d] = from_f32<T>(o[e] * inv);
  }
  // +∞ for a row with no visible key: exp(s − lse) = 0 makes its backward a no-op
  if (lane == 0) lse[((long long)b * NH + h) * T_ + i] = l > 0.f ? mx + logf(l) : INFINITY;
}

// delta (B, NH, T) = Σ_d dout · out per query row (the softmax backward's row term), one warp per row.
template <typename T>
__global__ void attention_delta_kernel(float* delta, const T* dout, const T* out, int B, int T_, int NH, int HD) {
  const long long row = (long long)blockIdx.x * ROWS + (threadIdx.x >> 5); // over (b, t, h) in memory order
  if (row >= (long long)B * T_ * NH) return;
  const int lane = threadIdx.x & 31;
  float s = 0.f;
  for (int d = lane; d < HD; d += 32) s += to_f32(dout[row * HD + d]) * to_f32(out[row * HD + d]);
  s = warp_sum(s);
  const long long bt = row / NH;
  const int h = (int)(row % NH), b = (int)(bt / T_), t = (int)(bt % T_);
  if (lane == 0) delta[((long long)b * NH + h) * T_ + t] = s;
}

// dq: one warp per query row, keys staged by tiles. ds = p·(dp − delta)·scale, dq = Σ_j ds·k_j.
template <typename T, int EPL>
__global__ void attention_dq_kernel(T* dq, const T* dout, const T* q, const T* k, const T* v, const float* lse, const float* delta, AttnMask m, int T_, int NH, int NKV, int HD, float scale) {
  extern __shared__ float smem[];
  float* Ks = smem;
  float* Vs = smem + TILE * HD;
  const int b = blockIdx.z, h = blockIdx.y, kh = h / (NH / NKV);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int i = blockIdx.x * ROWS + warp;
  float qr[EPL], dor[EPL], acc[EPL];
  const long long qo = (((long long)b * T_ + i) * NH + h) * HD;
  #pragma unroll
  for (int e = 0; e < EPL; e++) {
    const int d = lane + 32 * e;
    const bool ok = i < T_ && d < HD;
    qr[e] = ok ? to_f32(q[qo + d]) : 0.f;
    dor[e] = ok ? to_f32(dout[qo + d]) : 0.f;
    acc[e] = 0.f;
  }
  const float L = i < T_ ? lse[((long long)b * NH + h) * T_ + i] : INFINITY;
  const float D = i < T_ ? delta[((long long)b * NH + h) * T_ + i] : 0.f;
  const int last = m.causal ? min(T_ - 1, blockIdx.x * ROWS + ROWS - 1) : T_ - 1;
  const int own = m.causal ? i : T_ - 1;
  for (int j0 = 0; j0 <= last; j0 += TILE) {
    __syncthreads();
    stage_rows(Ks, k, b, T_, NKV, kh, HD, j0);
    stage_rows(Vs, v, b, T_, NKV, kh, HD, j0);
    __syncthreads();
    if (i >= T_ || L == INFINITY) continue;
    for (int jj = 0; jj < TILE && j0 + jj <= own; jj++) {
      if (!m.visible(b, T_, i, j0 + jj)) continue;
      float s = 0.f, dp = 0.f;
      #pragma unroll
      for (int e = 0; e < EPL; e++) {
        const int d = lane + 32 * e;
        if (d < HD) { s += qr[e] * Ks[jj * HD + d]; dp += dor[e] * Vs[jj * HD + d]; }
      }
      s = warp_sum(s) * scale;
      dp = warp_sum(dp);
      const float ds = __expf(s - L) * (dp - D) * scale;
      #pragma unroll
      for (int e = 0; e < EPL; e++) { const int d = lane + 32 * e; if (d < HD) acc[e] += ds * Ks[jj * HD + d]; }
    }
  }
  if (i >= T_) return;
  #pragma unroll
  for (int e = 0; e < EPL; e++) { const int d = lane + 32 * e; if (d < HD) dq[qo + d] = from_f32<T>(acc[e]); }
}

// dk, dv: one warp per key row of KV head kh, summing over its G query heads and every query that sees it (later
// ones when causal, all when bidirectional), staged by tiles.
template <typename T, int EPL>
__global__ void attention_dkv_kernel(T* dk, T* dv, const T* dout, const T* q, const T* k, const T* v, const float* lse, const float* delta, AttnMask m, int T_, int NH, int NKV, int HD, float scale) {
  extern __shared__ float smem[];
  float* Qs = smem;             // [TILE][HD]
  float* Os = smem + TILE * HD; // [TILE][HD] dout rows
  __shared__ float Ls[TILE], Ds[TILE];
  const int b = blockIdx.z, kh = blockIdx.y, G = NH / NKV;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int j = blockIdx.x * ROWS + warp;
  const long long ko = (((long long)b * T_ + j) * NKV + kh) * HD;
  float kr[EPL], vr[EPL], dkr[EPL], dvr[EPL];
  #pragma unroll
  for (int e = 0; e < EPL; e++) {
    const int d = lane + 32 * e;
    const bool ok = j < T_ && d < HD;
    kr[e] = ok ? to_f32(k[ko + d]) : 0.f;
    vr[e] = ok ? to_f32(v[ko + d]) : 0.f;
    dkr[e] = dvr[e] = 0.f;
  }
  const int first = m.causal ? blockIdx.x * ROWS : 0; // causal: no query before the block's first key
  for (int g = 0; g < G; g++) {
    const int h = kh * G + g;
    for (int i0 = (first / TILE) * TILE; i0 < T_; i0 += TILE) {
      __syncthreads();
      stage_rows(Qs, q, b, T_, NH, h, HD, i0);
      stage_rows(Os, dout, b, T_, NH, h, HD, i0);
      for (int r = threadIdx.x; r < TILE; r += blockDim.x) {
        const bool ok = i0 + r < T_;
        Ls[r] = ok ? lse[((long long)b * NH + h) * T_ + i0 + r] : INFINITY;
        Ds[r] = ok ? delta[((long long)b * NH + h) * T_ + i0 + r] : 0.f;
      }
      __syncthreads();
      if (j >= T_) continue;
      for (int ii = 0; ii < TILE && i0 + ii < T_; ii++) {
        const int i = i0 + ii;
        if (Ls[ii] == INFINITY || !m.visible(b, T_, i, j)) continue;
        float s = 0.f, dp = 0.f;
        #pragma unroll
        for (int e = 0; e < EPL; e++) {
          const int d = lane + 32 * e;
          if (d < HD) { s += kr[e] * Qs[ii * HD + d]; dp += vr[e] * Os[ii * HD + d]; }
        }
        s = warp_sum(s) * scale;
        dp = warp_sum(dp);
        const float p = __expf(s - Ls[ii]);
        const float ds = p * (dp - Ds[ii]) * scale;
        #pragma unroll
        for (int e = 0; e < EPL; e++) {
          const int d = lane + 32 * e;
          if (d < HD) { dvr[e] += p * Os[ii * HD + d]; dkr[e] += ds * Qs[ii * HD + d]; }
        }
      }
    }
  }
  if (j >= T_) return;
  #pragma unroll
  for (int e = 0; e < EPL; e++) {
    const int d = lane + 32 * e;
    if (d < HD) { dk[ko + d] = from_f32<T>(dkr[e]); dv[ko + d] = from_f32<T>(dvr[e]); }
  }
}

static size_t tile_smem(int HD) { return 2 * TILE * HD * sizeof(float); }

#define DISPATCH_EPL(HD, CALL)                                                          \
  switch ((HD + 31) / 32) {                                                             \
    case 1: CALL(1); break; case 2: CALL(2); break; case 3: CALL(3); break;             \
    case 4: CALL(4); break; case 5: CALL(5); break; case 6: CALL(6); break;             \
    case 7: CALL(7); break; case 8: CALL(8); break;                                     \
    default: return cudaErrorInvalidValue; /* head_dim > 256 */                         \
  }

template <typename T>
cudaError_t attention_forward(T* out, float* lse, const T* q, const T* k, const T* v, const AttnArgs& a, cudaStream_t s) {
  const AttnMask m{a.mask, a.segments, a.window, a.causal};
  const dim3 grid(ceil_div(a.T, ROWS), a.NH, a.B);
  const size_t sm = tile_smem(a.HD);
#define CALL(E)                                                                                              \
  cudaFuncSetAttribute(attention_forward_kernel<T, E>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sm); \
  attention_forward_kernel<T, E><<<grid, ROWS * 32, sm, s>>>(out, lse, q, k, v, m, a.T, a.NH, a.NKV, a.HD, a.scale)
  DISPATCH_EPL(a.HD, CALL)
#undef CALL
  return launch_status();
}

template <typename T>
cudaError_t attention_backward(T* dq, T* dk, T* dv, float* delta, const T* dout, const T* out, const T* q, const T* k, const T* v, const float* lse, const AttnArgs& a, cudaStream_t s) {
  const AttnMask m{a.mask, a.segments, a.window, a.causal};
  attention_delta_kernel<T><<<ceil_div((long long)a.B * a.T * a.NH, ROWS), ROWS * 32, 0, s>>>(delta, dout, out, a.B, a.T, a.NH, a.HD);
  const size_t sm = tile_smem(a.HD);
  const dim3 gq(ceil_div(a.T, ROWS), a.NH, a.B), gkv(ceil_div(a.T, ROWS), a.NKV, a.B);
#define CALL(E)                                                                                                  \
  cudaFuncSetAttribute(attention_dq_kernel<T, E>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sm);         \
  cudaFuncSetAttribute(attention_dkv_kernel<T, E>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sm);        \
  attention_dq_kernel<T, E><<<gq, ROWS * 32, sm, s>>>(dq, dout, q, k, v, lse, delta, m, a.T, a.NH, a.NKV, a.HD, a.scale); \
  attention_dkv_kernel<T, E><<<gkv, ROWS * 32, sm, s>>>(dk, dv, dout, q, k, v, lse, delta, m, a.T, a.NH, a.NKV, a.HD, a.scale)
  DISPATCH_EPL(a.HD, CALL)
#undef CALL
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t attention_forward<T>(T*, float*, const T*, const T*, const T*, const AttnArgs&, cudaStream_t); \
  template cudaError_t attention_backward<T>(T*, T*, T*, float*, const T*, const T*, const T*, const T*, const T*, const float*, const AttnArgs&, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
