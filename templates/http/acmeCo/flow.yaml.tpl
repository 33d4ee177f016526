collections:
  acmeCo/<% resource %>:
    schema: <% resource %>.schema.yaml
    key:
      - /id
