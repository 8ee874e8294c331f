{
  "targets": [
    {
      "target_name": "lnsd_dataplane",
      "sources": ["src/native/tun.cc", "src/native/io.cc"],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
