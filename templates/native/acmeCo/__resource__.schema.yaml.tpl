$schema: http://json-schema.org/draft-07/schema#
title: <% resourceTitle %>
type: object
properties:
  id:
    type: integer
  created_at:
    type: string
    format: date-time
  name:
    type: string
required:
  - id
  - created_at
  - name
