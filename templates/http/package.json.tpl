{
  "name": "<% name %>",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "description": "<% title %>: a Flow capture connector for an HTTP API, built with flowcap",
  "engines": { "node": ">=20.18.1" },
  "scripts": {
    "build": "tsc -p tsconfig.json",
    "test": "npm run build && vitest run",
    "mock": "npm run build && node dist/mock/server.js",
    "start": "npm run build && node dist/mock/server.js -- flowcap preview --source test.flow.yaml",
    "check": "npm run build && node dist/mock/server.js -- flowcap check --source test.flow.yaml",
<%#oauth2%>
    "lint:oauth": "npm run build && flowcap oauth lint --source test.flow.yaml",
<%/oauth2%>
    "bundle": "flowcap bundle main.ts -o dist/<% name %>.mjs"
  },
  "dependencies": {
    "flowcap": "<% flowcap %>"
  },
  "devDependencies": {
    "@types/node": "^24.0.0",
    "esbuild": "^0.28.2",
    "typescript": "~5.9.3",
    "vitest": "^4.1.12"
  }
}
