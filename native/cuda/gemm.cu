// Dense matrix products of the executor, row-major: C (M, N) = A (M, K) · op(B) [+ C], op(B) = Bᵀ with B (N, K)
// (nn.Linear's weight, the forward and the LM head) or B with B (K, N) (the input gradient dx = dout · W).
// cuBLASLt does the real work when the addon is built with it (gemm_cublaslt.cu); this tiled kernel is the
// portable fallback (and the reference the cuBLASLt path is checked against on the GPU machine).
#include "kernels.h"

namespace lora {

constexpr int GM = 64, GN = 64, GK = 16;

template <typename T, bool TRANS_B>
__global__ void gemm_tiled_kernel(T* C, const T* A, const T* B, int M, int N, int K, bool accumulate) {
  __shared__ float As[GK][GM + 1];
  __shared__ float Bs[GK][GN + 1];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  const int m0 = blockIdx.y * GM, n0 = blockIdx.x * GN;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < K; k0 += GK) {
    for (int idx = threadIdx.x; idx < GM * GK; idx += 256) {
      const int r = idx / GK, kk = idx % GK, m = m0 + r, k = k0 + kk;
      As[kk][r] = (m < M && k < K) ? to_f32(A[(long long)m * K + k]) : 0.f;
    }
    for (int idx = threadIdx.x; idx < GN * GK; idx += 256) {
      // TRANS_B: row n of B holds column n of op(B); read along k for coalescing in either case
      const int c = TRANS_B ? idx / GK : idx % GN, kk = TRANS_B ? idx % GK : idx / GN;
      const int n = n0 + c, k = k0 + kk;
      const long long off = TRANS_B ? (long long)n * K + k : (long long)k * N + n;
      Bs[kk][c] = (n < N && k < K) ? to_f32(B[off]) : 0.f;
    }
    __syncthreads();
    #pragma unroll
    for (int kk = 0; kk < GK; kk++) {
      float a[4], b[4];
      #pragma unroll
      for (int i = 0; i < 4; i++) { a[i] = As[kk][ty * 4 + i]; b[i] = Bs[kk][tx * 4 + i]; }
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
      const int m = m0 + ty * 4 + i, n = n0 + tx * 4 + j;
      if (m < M && n < N) {
        const long long o = (long long)m * N + n;
        C[o] = from_f32<T>(acc[i][j] + (accumulate ? to_f32(C[o]) : 0.f));
      }
    }
}

template <typename T>
cudaError_t gemm_tiled(T* C, const T* A, const T* B, int M, int N, int K, bool trans_b, bool accumulate, cudaStream_t s) {
  dim3 grid(ceil_div(N, GN), ceil_div(M, GM));
  if (trans_b) gemm_tiled_kernel<T, true><<<grid, 256, 0, s>>>(C, A, B, M, N, K, accumulate);
  else gemm_tiled_kernel<T, false><<<grid, 256, 0, s>>>(C, A, B, M, N, K, accumulate);
  return launch_status();
}

template <typename T>
cudaError_t gemm(GemmContext* ctx, T* C, const T* A, const T* B, int M, int N, int K, bool trans_b, bool accumulate, cudaStream_t s) {
  if (ctx && ctx->lt) return gemm_lt(ctx, C, A, B, M, N, K, trans_b, accumulate, s);
  return gemm_tiled(C, A, B, M, N, K, trans_b, accumulate, s);
}

#define INSTANTIATE(T) \
  template cudaError_t gemm_tiled<T>(T*, const T*, const T*, int, int, int, bool, bool, cudaStream_t); \
  template cudaError_t gemm<T>(GemmContext*, T*, const T*, const T*, int, int, int, bool, bool, cudaStream_t);
INSTANTIATE(float)
INSTANTIATE(bf16)

} // namespace lora
