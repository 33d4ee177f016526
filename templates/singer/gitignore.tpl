node_modules/
dist/
# The tap's own config (README: the tap by itself): it will hold your credentials.
config.json
