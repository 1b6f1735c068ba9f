// cuBLASLt for the big products (see gemm.cu for the row-major convention). Row-major C = A·op(B) is computed as
// the column-major Cᵀ = op(B)ᵀ·Aᵀ: the same memory, no copies. bf16 operands, f32 accumulation and scaling.
// Built only when cublasLt.h is found (LORA_HAVE_CUBLASLT); otherwise gemm() uses the tiled kernel.
#include "kernels.h"

#if defined(LORA_HAVE_CUBLASLT)
#include <cublasLt.h>

namespace lora {

bool gemm_lt_available() { return true; }

cudaError_t gemm_context_create(GemmContext* ctx, size_t workspace_bytes) {
  cublasLtHandle_t h = nullptr;
  if (cublasLtCreate(&h) != CUBLAS_STATUS_SUCCESS) return cudaErrorInitializationError;
  ctx->lt = h;
  ctx->workspace_bytes = workspace_bytes;
  return cudaMalloc(&ctx->workspace, workspace_bytes);
}

void gemm_context_destroy(GemmContext* ctx) {
  if (ctx->lt) cublasLtDestroy((cublasLtHandle_t)ctx->lt);
  if (ctx->workspace) cudaFree(ctx->workspace);
  ctx->lt = nullptr;
  ctx->workspace = nullptr;
}

template <typename T> static cudaDataType_t dtype_of();
template <> cudaDataType_t dtype_of<float>() { return CUDA_R_32F; }
template <> cudaDataType_t dtype_of<bf16>() { return CUDA_R_16BF; }

template <typename T>
cudaError_t gemm_lt(GemmContext* ctx, T* C, const T* A, const T* B, int M, int N, int K, bool trans_b, bool accumulate, cudaStream_t s) {
  const cudaDataType_t dt = dtype_of<T>();
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t la = nullptr, lb = nullptr, lc = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  cublasStatus_t st = cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F);
  // column-major view: first operand = op(B)ᵀ (N×K), second = Aᵀ (K×M), result Cᵀ (N×M)
  const cublasOperation_t ta = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, tb = CUBLAS_OP_N;
  if (st == CUBLAS_STATUS_SUCCESS) st = cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta));
  if (st == CUBLAS_STATUS_SUCCESS) st = cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb));
  // B row-major (N, K) is column-major K×N (ld K), transposed by TRANSA; B row-major (K, N) is column-major N×K (ld N)
  if (st == CUBLAS_STATUS_SUCCESS) st = trans_b ? cublasLtMatrixLayoutCreate(&la, dt, K, N, K) : cublasLtMatrixLayoutCreate(&la, dt, N, K, N);
  if (st == CUBLAS_STATUS_SUCCESS) st = cublasLtMatrixLayoutCreate(&lb, dt, K, M, K);
  if (st == CUBLAS_STATUS_SUCCESS) st = cublasLtMatrixLayoutCreate(&lc, dt, N, M, N);
  if (st == CUBLAS_STATUS_SUCCESS) st = cublasLtMatmulPreferenceCreate(&pref);
  if (st == CUBLAS_STATUS_SUCCESS)
    st = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ctx->workspace_bytes, sizeof(ctx->workspace_bytes));
  cublasLtMatmulHeuristicResult_t heur = {};
  int found = 0;
  if (st == CUBLAS_STATUS_SUCCESS)
    st = cublasLtMatmulAlgoGetHeuristic((cublasLtHandle_t)ctx->lt, op, la, lb, lc, lc, pref, 1, &heur, &found);
  if (st == CUBLAS_STATUS_SUCCESS && found == 0) st = CUBLAS_STATUS_NOT_SUPPORTED;
  const float alpha = 1.f, beta = accumulate ? 1.f : 0.f;
  if (st == CUBLAS_STATUS_SUCCESS)
    st = cublasLtMatmul((cublasLtHandle_t)ctx->lt, op, &alpha, B, la, A, lb, &beta, C, lc, C, lc, &heur.algo, ctx->workspace, ctx->workspace_bytes, s);
  if (pref) cublasLtMatmulPreferenceDestroy(pref);
  if (lc) cublasLtMatrixLayoutDestroy(lc);
  if (lb) cublasLtMatrixLayoutDestroy(lb);
  if (la) cublasLtMatrixLayoutDestroy(la);
  if (op) cublasLtMatmulDescDestroy(op);
  if (st == CUBLAS_STATUS_ALLOC_FAILED) return cudaErrorMemoryAllocation;
  // anything else cuBLASLt refuses: fall back to the tiled kernel rather than fail the step
  if (st != CUBLAS_STATUS_SUCCESS) return gemm_tiled(C, A, B, M, N, K, trans_b, accumulate, s);
  return cudaSuccess;
}

} // namespace lora

#else // no cuBLASLt at build time

namespace lora {
bool gemm_lt_available() { return false; }
cudaError_t gemm_context_create(GemmContext* ctx, size_t) { ctx->lt = nullptr; ctx->workspace = nullptr; ctx->workspace_bytes = 0; return cudaSuccess; }
void gemm_context_destroy(GemmContext*) {}
template <typename T>
cudaError_t gemm_lt(GemmContext*, T* C, const T* A, const T* B, int M, int N, int K, bool trans_b, bool accumulate, cudaStream_t s) {
  return gemm_tiled(C, A, B, M, N, K, trans_b, accumulate, s);
}
} // namespace lora

#endif

namespace lora {
template cudaError_t gemm_lt<float>(GemmContext*, float*, const float*, const float*, int, int, int, bool, bool, cudaStream_t);
template cudaError_t gemm_lt<bf16>(GemmContext*, bf16*, const bf16*, const bf16*, int, int, int, bool, bool, cudaStream_t);
} // namespace lora
