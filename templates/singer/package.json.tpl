{
  "name": "<% name %>",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "description": "<% title %>: a Singer tap run as a Flow capture connector by flowcap",
  "engines": { "node": ">=20.18.1" },
  "scripts": {
    "build": "tsc -p tsconfig.json",
    "test": "npm run build && vitest run",
    "start": "npm run build && flowcap preview --source test.flow.yaml",
    "check": "npm run build && flowcap check --source test.flow.yaml",
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
