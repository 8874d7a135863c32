# bmpwatch, the BMP collector, as docker-compose.yml runs it.
#
# Stage 1 builds with the README's manual-install command (`npm ci`, which compiles the TypeScript through the
# `prepare` script), then drops the development dependencies. Stage 2 is the slim Node.js image with only the
# compiled code and the production dependencies, run as the unprivileged `node` user.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles its native module when no prebuilt binary matches the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
RUN npm ci --no-audit --no-fund
RUN npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
# `bmpwatch` on the PATH (package.json "bin"), for `docker compose exec bmpwatch bmpwatch peers` and the like.
RUN chmod 755 dist/src/main.js \
 && ln -s /app/dist/src/main.js /usr/local/bin/bmpwatch \
 && mkdir -p /var/lib/bmpwatch /etc/bmpwatch \
 && chown node:node /var/lib/bmpwatch
USER node
VOLUME ["/var/lib/bmpwatch"]
# 11019: BMP from the route servers; 11080: the API (health, metrics, peers, routes).
EXPOSE 11019 11080
# The API's /healthz (listen.api in the config: 0.0.0.0:11080 in config/bmpwatch.compose.yaml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:11080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["bmpwatch"]
CMD ["serve", "--config", "/etc/bmpwatch/bmpwatch.yaml"]
