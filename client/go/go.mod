module gitlab-gateway/client/go

go 1.19

// The versions Debian 12 ships (golang-google-grpc-dev,
// golang-google-protobuf-dev, golang-google-genproto-dev); tests build in
// GOPATH mode against /usr/share/gocode, offline (tests/client/go).
require (
	google.golang.org/genproto v0.0.0-20221227171554-f9683d7f8bef
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
