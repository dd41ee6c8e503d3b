#!/bin/sh
# Regenerate the protobuf message modules (needs grpcio-tools; services are registered by
# hand in generator/sandbox/server.py, so no *_grpc.py stubs are generated).
set -e
cd "$(dirname "$0")/../../.."
python -m grpc_tools.protoc -I . --python_out=. \
  generator/sandbox/proto/tfplugin6.proto generator/sandbox/proto/goplugin.proto
