"""Builds the gRPC stubs from the gateway's proto at install time.

The proto is not copied into this folder: it is read from the repository's
proto/ (or GITLAB_GATEWAY_PROTO_DIR), so a field added to the API reaches this
client on the next install with no edit here. google/rpc/*.proto come from
GITLAB_GATEWAY_GOOGLEAPIS_DIR (Debian: golang-github-gogo-googleapis-dev).

protoc and grpc_python_plugin (Debian: protobuf-compiler-grpc) generate code
that imports `gitlab.gateway.v1` and `google.rpc`; both are rewritten to
modules inside this package (`gitlab_gateway.v1`, `gitlab_gateway._rpc`), so
the client neither shadows python-gitlab's `gitlab` package nor needs
googleapis-common-protos.
"""
import os
import re
import shutil
import subprocess
import tempfile

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.environ.get("GITLAB_GATEWAY_PROTO_DIR",
                           os.path.join(HERE, "..", "..", "proto"))
GOOGLEAPIS_DIR = os.environ.get(
    "GITLAB_GATEWAY_GOOGLEAPIS_DIR",
    "/usr/share/gocode/src/github.com/gogo/googleapis")
GATEWAY_PROTO = "gitlab/gateway/v1/gateway.proto"
RPC_PROTOS = ["google/rpc/status.proto", "google/rpc/error_details.proto"]

# Where each generated proto package goes inside gitlab_gateway.
MODULE_MAP = {"gitlab.gateway.v1": "gitlab_gateway.v1",
              "google.rpc": "gitlab_gateway._rpc"}


def _tool(name):
    path = shutil.which(name)
    if not path:
        raise SystemExit(f"gitlab-gateway: {name} not found (Debian: "
                         "protobuf-compiler, protobuf-compiler-grpc)")
    return path


def _rewrite_imports(text):
    for proto_pkg, module in MODULE_MAP.items():
        text = re.sub(rf"^from {re.escape(proto_pkg)} import ",
                      f"from {module} import ", text, flags=re.M)
    return text


def generate(package_dir):
    protoc = _tool("protoc")
    plugin = _tool("grpc_python_plugin")
    for root, rel in [(PROTO_DIR, GATEWAY_PROTO)] + [
            (GOOGLEAPIS_DIR, p) for p in RPC_PROTOS]:
        if not os.path.isfile(os.path.join(root, rel)):
            raise SystemExit(f"gitlab-gateway: {rel} not found under {root}")
    with tempfile.TemporaryDirectory() as out:
        includes = ["-I", PROTO_DIR, "-I", GOOGLEAPIS_DIR, "-I", "/usr/include"]
        subprocess.check_call([protoc, *includes, f"--python_out={out}",
                               f"--grpc_out={out}",
                               f"--plugin=protoc-gen-grpc={plugin}",
                               os.path.join(PROTO_DIR, GATEWAY_PROTO)])
        subprocess.check_call([protoc, *includes, f"--python_out={out}",
                               *[os.path.join(GOOGLEAPIS_DIR, p)
                                 for p in RPC_PROTOS]])
        for proto_pkg, module in MODULE_MAP.items():
            src = os.path.join(out, *proto_pkg.split("."))
            dest = os.path.join(package_dir, *module.split(".")[1:])
            os.makedirs(dest, exist_ok=True)
            for name in sorted(os.listdir(src)):
                if not name.endswith(".py"):
                    continue
                with open(os.path.join(src, name)) as f:
                    text = _rewrite_imports(f.read())
                with open(os.path.join(dest, name), "w") as f:
                    f.write(text)


class BuildPyWithStubs(build_py):
    """Writes the stubs into the build tree, never into the source folder."""

    def run(self):
        super().run()
        generate(os.path.join(self.build_lib, "gitlab_gateway"))


setup(cmdclass={"build_py": BuildPyWithStubs})
