module gitlab-gateway/examples/go

go 1.19

require gitlab-gateway/client/go v0.0.0

replace gitlab-gateway/client/go => ../../client/go
