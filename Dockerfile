# syntax=docker/dockerfile:1
# kubemend's container image (ADR 0018).
#
#   docker build -t REGISTRY/kubemend:TAG . && docker push REGISTRY/kubemend:TAG
#
# build:   Node 20 with the development dependencies (TypeScript); scripts/package-runtime.mjs
#          assembles the runtime tree (dist, package.json, lockfile, production node_modules,
#          policies, examples) — the same script and file list as `npm run package:runtime`.
# runtime: distroless Node 20 (no shell, no package manager), UID/GID 65532, the application
#          read-only and owned by root, /data the only writable path (mount a volume there; run
#          with a read-only root filesystem). Node is PID 1: `kubemend serve` handles SIGTERM
#          and SIGINT itself (stops accepting, lets in-flight requests finish, closes storage).
ARG BUILD_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Development dependencies for the compiler. Lifecycle scripts are skipped here (`prepare` would
# compile before the sources are copied); the runtime tree below runs them (better-sqlite3).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY policies ./policies
COPY examples ./examples
COPY scripts/package-runtime.mjs scripts/bundle.mjs ./scripts/
RUN node scripts/package-runtime.mjs --out /runtime && mkdir -p /data

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="kubemend" \
      org.opencontainers.image.description="Kubernetes remediation service" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
COPY --from=build /runtime/ /app/
COPY --from=build --chown=65532:65532 /data /data
ENV NODE_ENV=production \
    KUBEMEND_DATA_DIR=/data \
    KUBEMEND_HOST=0.0.0.0 \
    KUBEMEND_PORT=8080 \
    TMPDIR=/data
USER 65532:65532
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=3s \
  CMD ["/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:'+(process.env.KUBEMEND_PORT||8080)+'/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/bundle/kubemend.js"]
CMD ["serve"]
