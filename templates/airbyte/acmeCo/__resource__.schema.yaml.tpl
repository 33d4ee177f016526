$schema: http://json-schema.org/draft-07/schema#
title: <% resourceTitle %>
type: object
properties:
  id:
    type: integer
  name:
    type: string
  updated_at:
    type: string
    format: date-time
  _meta:
    type: object
    properties:
      row_id:
        type: integer
required:
  - id
