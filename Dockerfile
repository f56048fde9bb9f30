# tap-convo as an Airbyte source image, following Airbyte's connector image conventions
# (protocols.md §3.6): ENTRYPOINT and AIRBYTE_ENTRYPOINT equal and absolute, a non-root `airbyte`
# user, a writable /airbyte, and io.airbyte.* labels that match metadata.yaml.
#
#   docker build -t tap-convo/source-convo:0.1.0 .
#   docker run --rm tap-convo/source-convo:0.1.0 spec

# The current Node LTS line, slim (Debian): DuckDB's prebuilt binding needs glibc.
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-slim AS build
WORKDIR /build
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# --ignore-scripts: `prepare` would build before the sources are here; the build runs below.
RUN npm ci --ignore-scripts
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:${NODE_VERSION}-slim
ENV NODE_ENV=production
WORKDIR /airbyte/integration_code
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /build/dist ./dist
COPY bin ./bin
COPY catalogs ./catalogs
COPY README.md ./

# The platform mounts config and catalog files under /airbyte and may run from another directory;
# the code stays owned by root, so the connector cannot change itself.
RUN groupadd --system airbyte \
  && useradd --system --gid airbyte --home-dir /airbyte --shell /usr/sbin/nologin airbyte \
  && chown airbyte:airbyte /airbyte

ENV AIRBYTE_ENTRYPOINT="/usr/local/bin/node /airbyte/integration_code/bin/tap-convo.js"
ENTRYPOINT ["/usr/local/bin/node", "/airbyte/integration_code/bin/tap-convo.js"]

LABEL io.airbyte.name=tap-convo/source-convo
LABEL io.airbyte.version=0.1.0

USER airbyte
