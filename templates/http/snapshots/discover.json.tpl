[
  {
    "recommendedName": "<% resource %>",
    "resourceConfig": {
      "interval": "PT1M",
      "name": "<% resource %>"
    },
    "documentSchema": {
      "$schema": "http://json-schema.org/draft-07/schema#",
      "title": "<% resourceTitle %>",
      "type": "object",
      "properties": {
        "id": {
          "type": "string"
        },
        "updated_at": {
          "type": "string",
          "format": "date-time",
          "description": "When the record last changed: the incremental cursor."
        },
        "name": {
          "type": "string"
        }
      },
      "required": [
        "id",
        "updated_at"
      ]
    },
    "key": [
      "/id"
    ],
    "resourcePath": [
      "<% resource %>"
    ]
  }
]
