# ferry container image: the CDC worker, the CLI and the Cloud Run chunk job in one image, picked by the first
# argument (dist/entry.mjs):  docker run IMAGE cdc | IMAGE chunk /config/task.json | IMAGE status ... | IMAGE --help
#
# Build stage: full toolchain, npm ci + esbuild bundles. Runtime stage: only dist/ on a small base, non-root.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no install script is needed for the bundles (esbuild ships its binary as a package).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY bin/ bin/
COPY lib/ lib/
COPY functions/ functions/
COPY scripts/build.ts scripts/build.ts
RUN npm run build

FROM node:20-alpine AS runtime
ENV NODE_ENV=production NODE_OPTIONS=--enable-source-maps
WORKDIR /app
# The bundles run with plain node and no node_modules.
COPY --from=build --chown=node:node /src/dist/ /app/
USER node
# CDC metrics (FERRY_METRICS_PORT); Cloud Run sets PORT for a service, see infra/gcp/cdc-service.yaml.
EXPOSE 9464
ENTRYPOINT ["node", "/app/entry.mjs"]
CMD ["--help"]
