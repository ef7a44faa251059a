# Release and container entry points (the everyday build is tools/build.sh; tests are tools/test.sh).
#   make dist                          Release build -> dist/ovms-<version>-linux-x86_64.tar.gz (+ -dbg)
#   make docker_build [BASE_OS=debian|ubuntu] [FROM_SOURCE=1]
#                                      image ovms:latest (docker if its daemon answers, else podman)
#   make base_image                    podman only: localhost/debian:bookworm-slim built with mmdebstrap
#   make test_dist / test_container / test_deploy
SHELL := /bin/bash
VERSION := ${shell sed -nE 's/^project\(ovms_cpp VERSION ([0-9.]+).*/\1/p' CMakeLists.txt}
DIST_TARBALL := dist/ovms-$(VERSION)-linux-x86_64.tar.gz
BASE_OS ?= debian
IMAGE ?= ovms:latest
# FROM_SOURCE=1 builds the server inside the image (multi-stage); the default installs $(DIST_TARBALL).
FROM_SOURCE ?= 0
JOBS ?= 2

.PHONY: all dist docker_build base_image test_dist test_container test_deploy clean_dist

all: dist

dist:
	JOBS=$(JOBS) bash tools/dist.sh

docker_build: $(if $(filter 1,$(FROM_SOURCE)),,dist)
	BASE_OS=$(BASE_OS) IMAGE=$(IMAGE) FROM_SOURCE=$(FROM_SOURCE) VERSION=$(VERSION) JOBS=$(JOBS) \
	  bash tools/container_build.sh

base_image:
	BASE_OS=$(BASE_OS) bash tools/container_base_image.sh

test_dist: dist
	bash tests/deploy/test_tarball.sh $(DIST_TARBALL)

test_container: docker_build
	IMAGE=$(IMAGE) bash tests/deploy/test_container.sh

test_deploy:
	bash tests/deploy/test_manifests.sh

clean_dist:
	rm -rf dist build-release
