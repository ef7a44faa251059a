# syntax=docker/dockerfile:1
# ovms image. Two ways to fill it (docs/deployment.md):
#   docker build -t ovms:latest .                        build from source (stage `build`), then the slim runtime
#   docker build --target release-prebuilt -t ovms:latest .   install dist/ovms-<version>-linux-x86_64.tar.gz
#                                                        made by `make dist` (what `make docker_build` and CI do)
# Every FROM is a build argument so the images can come from a local store when no registry is
# reachable (podman: localhost/debian:bookworm-slim from tools/container_base_image.sh).
ARG BASE_IMAGE=debian:bookworm-slim
ARG BUILD_IMAGE=debian:bookworm

# ---------------------------------------------------------------- build from source (Debian 12)
FROM ${BUILD_IMAGE} AS build
ARG JOBS=2
ARG OVMS_GIT_COMMIT=unknown
WORKDIR /src
COPY tools/install_deps.sh tools/install_deps.sh
RUN OVMS_DEPS_BUILD_ONLY=1 bash tools/install_deps.sh && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt ./
COPY src src
COPY tests tests
COPY tools tools
COPY models models
COPY bench bench
RUN OVMS_GIT_COMMIT="${OVMS_GIT_COMMIT}" JOBS="${JOBS}" bash tools/dist.sh \
 && mkdir -p /out && tar -xzf dist/ovms-*-linux-x86_64.tar.gz -C /out

# ---------------------------------------------------------------- runtime: what every variant shares
FROM ${BASE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG OVMS_GIT_COMMIT=unknown
LABEL org.opencontainers.image.title="ovms" \
      org.opencontainers.image.description="OpenVINO Model Server compatible model server on ONNX Runtime" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${OVMS_GIT_COMMIT}"
# A fixed non-root user (uid/gid 5000, as OVMS's image): written directly so no passwd tools are needed.
RUN echo 'ovms:x:5000:5000:ovms:/home/ovms:/usr/sbin/nologin' >> /etc/passwd \
 && echo 'ovms:x:5000:' >> /etc/group \
 && mkdir -p /home/ovms /models \
 && chown 5000:5000 /home/ovms
COPY tools/container_healthcheck.sh /usr/local/bin/ovms-healthcheck
ENV PATH=/ovms/bin:$PATH
# Models are expected under /models (any path works: pass it with --model_path / in config.json).
# gRPC and REST ports used in the docs; the server listens on what --port / --rest_port say.
EXPOSE 9000 8000
WORKDIR /home/ovms
USER 5000:5000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["/usr/local/bin/ovms-healthcheck"]
ENTRYPOINT ["/ovms/bin/ovms"]

# ---------------------------------------------------------------- runtime with the tarball from `make dist`
FROM runtime AS release-prebuilt
ARG DIST_TARBALL=dist/ovms-0.1.0-linux-x86_64.tar.gz
# ADD unpacks a local tarball (as root, whatever USER says): /ovms/bin/ovms, /ovms/lib, /ovms/licenses.
ADD ${DIST_TARBALL} /

# ---------------------------------------------------------------- runtime with the server built above (default)
FROM runtime AS release
COPY --from=build /out/ovms /ovms
