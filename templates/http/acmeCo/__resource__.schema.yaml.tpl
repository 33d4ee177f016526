$schema: http://json-schema.org/draft-07/schema#
title: <% resourceTitle %>
type: object
properties:
  id:
    type: string
  updated_at:
    type: string
    format: date-time
  name:
    type: string
required:
  - id
  - updated_at
