{
  "variables": {
    "with_cuda%": "<!(node -p \"process.env.LORA_STUDIO_BUILD_CUDA === '1' ? 1 : 0\")",
    "cuda_home%": "<!(node -p \"process.env.CUDA_HOME || '/usr/local/cuda'\")",
    "cuda_libdir%": "<!(node -p \"process.env.LORA_CUDA_LIBDIR || ''\")",
    "with_cublaslt%": "<!(node -p \"process.env.LORA_HAVE_CUBLASLT === '1' ? 1 : 0\")"
  },
  "targets": [
    {
      "target_name": "lora_native",
      "sources": ["src/addon.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O2"],
      "conditions": [
        ["with_cuda==1", {
          "defines": ["LORA_WITH_CUDA"],
          "include_dirs": ["<(cuda_home)/include"],
          "libraries": [
            "<(module_root_dir)/build/cuda/liblora_cuda.a",
            "-L<(cuda_libdir)",
            "-lcudart",
            "-Wl,-rpath,<(cuda_libdir)"
          ],
          "conditions": [["with_cublaslt==1", { "libraries": ["-lcublasLt"] }]]
        }]
      ]
    }
  ]
}
