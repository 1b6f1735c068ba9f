// NF4 (QLoRA) weights: quantize with double quantization on load, dequantize, and a fused dequantize-matmul for the
// forward (y = x·Wᵀ) and the input gradient (dx = dout·W). Layout = bitsandbytes' (and quant/nf4.ts, the CPU
// reference): W (OC, IC) flattened row-major, blocks of 64 with one absmax each, two codes per byte with the FIRST
// element in the HIGH nibble; the absmax values are double-quantized: offset = mean(absmax), then blocks of 256 of
// (absmax − offset) scaled by their own absmax2 and rounded to the nearest entry of the signed 8-bit dynamic map.
//   w[f] = NF4[code(f)] · (dyn[qabsmax[f/64]] · absmax2[f/64/256] + offset)
// The dynamic map (256 f32) is uploaded by the host from quant/nf4.ts so both sides round to the same table.
#include "kernels.h"

namespace lora {

__constant__ float NF4_CODE[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
    -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
    0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

// Nearest NF4 code of x in [−1, 1]: thresholds are the midpoints between neighbours; a value exactly on a midpoint
// takes the lower code (as bitsandbytes' comparisons `x > mid` do).
__device__ __forceinline__ uint8_t nf4_code(float x) {
  uint8_t c = 0;
  #pragma unroll
  for (int i = 0; i < 15; i++) c += x > 0.5f * (NF4_CODE[i] + NF4_CODE[i + 1]) ? 1 : 0;
  return c;
}

// Nearest entry of a sorted 256-entry table (ties to the lower index).
__device__ __forceinline__ uint8_t nearest_index(const float* table, float x) {
  int lo = 0, hi = 255;
  while (hi - lo > 1) { const int mid = (lo + hi) / 2; if (table[mid] <= x) lo = mid; else hi = mid; }
  return (uint8_t)(fabsf(table[hi] - x) < fabsf(x - table[lo]) ? hi : lo);
}

__device__ __forceinline__ float nf4_absmax(const Nf4Weight& w, long long block) {
  if (w.absmax) return w.absmax[block];
  // separately rounded product and sum (no FMA contraction), as bitsandbytes dequantizes then adds the offset
  return __fadd_rn(__fmul_rn(w.dyn_map[w.qabsmax[block]], w.absmax2[block / 256]), w.offset[0]);
}

__device__ __forceinline__ float nf4_value(const Nf4Weight& w, long long f) {
  const uint8_t byte = w.codes[f >> 1];
  const int code = (f & 1) ? (byte & 15) : (byte >> 4);
  return NF4_CODE[code] * nf4_absmax(w, f / 64);
}

// Pass 1: one warp per block of 64 values (each lane one byte = two neighbours). absmax (n/64) f32 before double quant.
template <typename T>
__global__ void nf4_quantize_kernel(uint8_t* codes, float* absmax, const T* x, long long n) {
  const long long block = (long long)blockIdx.x * (blockDim.x / 32) + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  const long long f = block * 64 + 2 * lane;
  if (block * 64 >= n) return;
  const float a = f < n ? to_f32(x[f]) : 0.f, b = f + 1 < n ? to_f32(x[f + 1]) : 0.f;
  const float am = warp_max(fmaxf(fabsf(a), fabsf(b)));
  const float inv = am > 0.f ? 1.f / am : 0.f; // an all-zero block stores code 7 (0.0) everywhere
  if (f < n) codes[f >> 1] = (uint8_t)((nf4_code(a * inv) << 4) | nf4_code(b * inv));
  if (lane == 0) absmax[block] = am;
}

// offset = mean(absmax): one block, a fixed reduction order so the result is deterministic.
__global__ void mean_kernel(float* out, const float* x, long long n) {
  float s = 0.f;
  for (long long i = threadIdx.x; i < n; i += blockDim.x) s += x[i];
  s = block_sum(s);
  if (threadIdx.x == 0) out[0] = s / (float)n;
}

// Pass 2: one block of 256 threads per block of 256 absmax values.
__global__ void nf4_double_quant_kernel(uint8_t* qabsmax, float* absmax2, const float* absmax, const float* offset, const float* dyn_map, long long nblocks) {
  const long long i = (long long)blockIdx.x * 256 + threadIdx.x;
  const float v = i < nblocks ? absmax[i] - offset[0] : 0.f;
  const float am = block_max(fabsf(v));
  if (threadIdx.x == 0) absmax2[blockIdx.x] = am;
  const float inv = am > 0.f ? 1.f / am : 0.f; // multiply by the reciprocal, as bitsandbytes does
  if (i < nblocks) qabsmax[i] = nearest_index(dyn_map, v * inv);
}

template <typename T>
__global__ void nf4_dequantize_kernel(T* out, Nf4Weight w, long long n) {
  const long long f = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (f < n) out[f] = from_f32<T>(nf4_value(w, f));
}

// Fused dequantize-matmul, row-major, f32 accumulation:
//   forward  (TRANS_W = true):  C (M, OC) = A (M, IC) · Wᵀ      K = IC
//   backward (TRANS_W = false): C (M, IC) = A (M, OC) · W       K = OC
// W (OC, IC) stays 4-bit in memory; each 64×64 output tile dequantizes only the 64×16 slice of W it needs.
constexpr int BM = 64, BN = 64, BK = 16;
template <typename T, bool TRANS_W>
__global__ void nf4_matmul_kernel(T* C, const T* A, Nf4Weight w, int M, int Ncol, int K, bool accumulate) {
  __shared__ float As[BK][BM + 1];
  __shared__ float Ws[BK][BN + 1];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16; // 256 threads, each a 4×4 patch
  const int m0 = blockIdx.y * BM, c0 = blockIdx.x * BN;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < K; k0 += BK) {
    for (int idx = threadIdx.x; idx < BM * BK; idx += 256) {
      const int r = idx / BK, kk = idx % BK, m = m0 + r, k = k0 + kk;
      As[kk][r] = (m < M && k < K) ? to_f32(A[(long long)m * K + k]) : 0.f;
    }
    for (int idx = threadIdx.x; idx < BN * BK; idx += 256) {
      const int c = idx / BK, kk = idx % BK, col = c0 + c, k = k0 + kk;
      // forward reads W[col][k] (row col of W), backward W[k][col]; IC = K forward, IC = Ncol backward
      const long long f = TRANS_W ? (long long)col * K + k : (long long)k * Ncol + col;
      Ws[kk][c] = (col < Ncol && k < K) ? nf4_value(w, f) : 0.f;
    }
    __syncthreads();
    #pragma unroll
    for (int kk = 0; kk < BK; kk++) {
      float a[4], b[4];
      #pragma unroll
      for (int i = 0; i < 4; i++) { a[i] = As[kk][ty * 4 + i]; b[i] = Ws[kk][tx * 4 + i]; }
      #pragma unroll
      for (int i = 0; i < 4; i++)
        #pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
  #pragma unroll
  for (int i = 0; i < 4; i++)
    #pragma unroll
    for (int j = 0; j < 4; j++) {
      const int m = m0 + ty * 4 + i, c = c0 + tx * 4 + j;
      if (m < M && c < Ncol) {
        const long long o = (long long)m * Ncol + c;
        C[o] = from_f32<T>(acc[i][j] + (accumulate ? to_f32(C[o]) : 0.f));
      }
    }
}

template <typename T>
cudaError_t nf4_quantize(Nf4Weight w, float* absmax_scratch, const T* x, long long n, cudaStream_t s) {
  const long long nblocks = (n + 63) / 64;
  nf4_quantize_kernel<T><<<ceil_div(nblocks, 8), 256, 0, s>>>(w.codes, absmax_scratch, x, n);
  mean_kernel<<<1, 1024, 0, s>>>(w.offset, absmax_scratch, nblocks);
  nf4_double_quant_kernel<<<ceil_div(nblocks, 256), 256, 0, s>>>(w.qabsmax, w.absmax2, absmax_scratch, w.offset, w.dyn_map, nblocks);
  return launch_status();
}
template <typename T>
cudaError_t nf4_dequantize(T* out, Nf4Weight w, long long n, cudaStream_t s) {
  nf4_dequantize_kernel<T><<<ceil_div(n, 256), 256, 0, s>>>(out, w, n);
  return launch_status();
}
template <typename T>
cudaError_t nf4_matmul(T* C, const T* A, Nf4Weight w, int M, int OC, int IC, bool input_grad, bool accumulate, cudaStream_t s) {
  if (!input_grad) {
    dim3 grid(ceil_div(OC, BN), ceil_div(M, BM));
    nf4_matmul_kernel<T, true><<<grid, 256, 0, s>>>(C, A, w, M, OC, IC, accumulate);
  } else {
    dim3 grid(ceil_div(IC, BN), ceil_div(M, BM));
    nf4_matmul_kernel<T, false><<<grid, 256, 0, s>>>(C, A, w, M, IC, OC, accumulate);
  }
  return launch_status();
}

#define INSTANTIATE(T) \
  template cudaError_t nf4_quantize<T>(Nf4Weight, float*, const T*, long long, cudaStream_t); \
  template cudaError_t nf4_dequantize<T>(T*, Nf4Weight, long long, cudaStream_t); \
  template cudaError_t nf4_matmul<T>(T*, const T*, Nf4Weight, int, int, int, bool, bool, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
