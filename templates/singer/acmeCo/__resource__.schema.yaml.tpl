# The <% resource %> stream's documents, as `flowcap discover` writes them: the tap's schema, with
# _meta.row_id, the key required, and the rule that a _meta.op "d" document deletes its row.
type: object
properties:
  id:
    type: integer
  created_at:
    type: string
    format: date-time
  name:
    type: string
  _meta:
    type: object
    properties:
      row_id:
        type: integer
    required:
      - row_id
required:
  - id
if:
  required:
    - _meta
  properties:
    _meta:
      required:
        - op
      properties:
        op:
          const: d
then:
  reduce:
    strategy: merge
    delete: true
else:
  required:
    - created_at
    - name
