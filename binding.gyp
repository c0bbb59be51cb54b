{
  "variables": {
    "tsgi_python%": "<!(node scripts/python-config.js available)"
  },
  "targets": [
    {
      "target_name": "tsgi",
      "sources": [
        "native/binding.cc",
        "native/chunked_decoder.cc",
        "native/connection.cc",
        "native/connection_output.cc",
        "native/connection_response.cc",
        "native/connection_timeouts.cc",
        "native/date_cache.cc",
        "native/environ_entries.cc",
        "native/framing.cc",
        "native/health_check.cc",
        "native/known_headers.cc",
        "native/listener.cc",
        "native/loop_data.cc",
        "native/native_app.cc",
        "native/output_queue.cc",
        "native/parser.cc",
        "native/proxy/allow_list.cc",
        "native/proxy/proxy_front_end.cc",
        "native/proxy/proxy_protocol.cc",
        "native/request_record.cc",
        "native/header_name_codes.cc",
        "native/server.cc",
        "native/spool.cc",
        "native/tls/tls_context.cc",
        "native/tls/tls_session.cc",
        "native/tls/tls_transport.cc",
        "native/uwsgi/uwsgi_front_end.cc",
        "native/uwsgi/uwsgi_parser.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(node_root_dir)/include/node"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS"
      ],
      "cflags": ["-O2", "-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-fno-exceptions"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_ENABLE_CPP_EXCEPTIONS": "NO"
      }
    }
  ],
  "conditions": [
    ["tsgi_python==1", {
      "targets": [
        {
          "target_name": "tsgi_python",
          "sources": [
            "native/python/access_notes.cc",
            "native/python/binding.cc",
            "native/python/environ.cc",
            "native/python/forwarded.cc",
            "native/python/forwarded_trust.cc",
            "native/python/gateway.cc",
            "native/python/harakiri.cc",
            "native/python/interpreter.cc",
            "native/python/streams.cc",
            "native/python/threads.cc",
            "native/proxy/allow_list.cc"
          ],
          "defines": [
            "NAPI_VERSION=8",
            "TSGI_PYTHON_EXE=\"<!(node scripts/python-config.js exe)\""
          ],
          "cflags": ["-O2", "-fno-exceptions", "<!@(node scripts/python-config.js cflags)"],
          "cflags_cc": ["-std=c++17", "-O2", "-fno-exceptions", "<!@(node scripts/python-config.js cflags)"],
          "cflags_cc!": ["-std=gnu++17", "-std=gnu++20"],
          "libraries": ["<!@(node scripts/python-config.js ldflags)"]
        }
      ]
    }]
  ]
}
