# The image Flow runs for one flowcap connector:
#   docker build --platform linux/amd64 --build-arg CONNECTOR=source-hello-world -t ghcr.io/OWNER/source-hello-world .
# The build stage bundles connectors/$CONNECTOR/main.ts into one file with `flowcap bundle`; the
# runtime stage holds only that file (plus the connector's runtime/ files and whatever
# APT_PACKAGES a wrapped source needs, such as python3 for a Singer tap written in Python).

ARG NODE_IMAGE=node:24-slim

FROM --platform=linux/amd64 ${NODE_IMAGE} AS build
ARG CONNECTOR
WORKDIR /src
COPY package.json package-lock.json ./
# The bin doorway too, so npm ci links `flowcap` (npx flowcap below) before the sources arrive.
COPY bin/ bin/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build
RUN test -n "$CONNECTOR" && npx flowcap bundle "connectors/${CONNECTOR}/main.ts" -o /out/connector.mjs
# Files a connector needs beside its bundle at run time (a wrapped tap's sources, say) live in
# connectors/$CONNECTOR/runtime/ and are copied next to it.
RUN if [ -d "connectors/${CONNECTOR}/runtime" ]; then cp -R "connectors/${CONNECTOR}/runtime/." /out/; fi

FROM --platform=linux/amd64 ${NODE_IMAGE} AS runtime
ARG CONNECTOR
ARG USAGE_RATE=1.0
ARG APT_PACKAGES=""
RUN if [ -n "$APT_PACKAGES" ]; then apt-get update && apt-get install -y --no-install-recommends $APT_PACKAGES && rm -rf /var/lib/apt/lists/*; fi
WORKDIR /connector
COPY --from=build /out/ /connector/
ENV NODE_ENV=production
LABEL FLOW_RUNTIME_PROTOCOL=capture
LABEL FLOW_RUNTIME_CODEC=json
LABEL dev.estuary.usage-rate=${USAGE_RATE}
LABEL CONNECTOR_PROTOCOL=flow-capture
LABEL org.opencontainers.image.title=${CONNECTOR}
USER node
ENTRYPOINT ["node", "--enable-source-maps", "/connector/connector.mjs"]
