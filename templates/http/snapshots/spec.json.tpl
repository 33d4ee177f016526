{
  "protocol": 3032023,
  "configSchema": {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "<% title %>",
    "type": "object",
    "properties": {
<%#apiKey%>
      "api_key": {
        "type": "string",
        "title": "API key",
        "description": "The key the API issued you.",
        "secret": true,
        "order": 0
      },
<%/apiKey%>
<%#bearer%>
      "access_token": {
        "type": "string",
        "title": "Access token",
        "description": "A personal access token for the API.",
        "secret": true,
        "order": 0
      },
<%/bearer%>
<%#basic%>
      "username": {
        "type": "string",
        "title": "User name",
        "description": "The API user's name.",
        "order": 0
      },
      "password": {
        "type": "string",
        "title": "Password",
        "description": "The API user's password.",
        "secret": true,
        "order": 1
      },
<%/basic%>
<%#oauth2%>
      "credentials": {
        "title": "Authentication",
        "discriminator": {
          "propertyName": "credentials_title"
        },
        "oneOf": [
          {
            "type": "object",
            "title": "OAuth",
            "x-oauth2-provider": "<% provider %>",
            "properties": {
              "credentials_title": {
                "type": "string",
                "const": "OAuth Credentials",
                "default": "OAuth Credentials",
                "title": "Credentials Title"
              },
              "client_id": {
                "type": "string",
                "title": "Client ID",
                "secret": true
              },
              "client_secret": {
                "type": "string",
                "title": "Client Secret",
                "secret": true
              },
              "refresh_token": {
                "type": "string",
                "title": "Refresh Token",
                "secret": true
              }
            },
            "required": [
              "credentials_title",
              "client_id",
              "client_secret",
              "refresh_token"
            ]
          }
        ]
      },
      "token_url": {
        "type": "string",
        "title": "Token URL",
        "description": "Where access tokens come from.",
        "default": "https://auth.example.com/oauth/token",
        "order": 1
      },
<%/oauth2%>
      "base_url": {
        "type": "string",
        "title": "API URL",
        "description": "Base URL of the API.",
        "default": "https://api.example.com",
        "order": 2
      },
      "start_date": {
        "type": "string",
        "format": "date-time",
        "title": "Start date",
        "description": "Backfill only the records updated at or after this time (UTC, RFC 3339). Default: every record.",
        "order": 3
      }
    },
    "required": [
<%#apiKey%>
      "api_key"
<%/apiKey%>
<%#bearer%>
      "access_token"
<%/bearer%>
<%#basic%>
      "username",
      "password"
<%/basic%>
<%#oauth2%>
      "credentials"
<%/oauth2%>
    ]
  },
  "resourceConfigSchema": {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Resource",
    "type": "object",
    "properties": {
      "name": {
        "type": "string",
        "title": "Name",
        "description": "Name of the resource to capture."
      },
      "interval": {
        "type": "string",
        "title": "Interval",
        "description": "How long to wait between polls of the resource for changes (or between snapshots): ISO-8601 (PT5M) or 5m, 1h 30m. Default: the resource's own."
      },
      "schedule": {
        "type": "string",
        "title": "Schedule",
        "description": "When to re-run the resource's backfill or snapshot, as a cron expression in UTC (0 3 * * *: daily at 03:00). Empty: never."
      },
      "_meta": {
        "type": "object",
        "description": "Set by Flow; not part of the resource's configuration."
      }
    },
    "required": [
      "name"
    ],
    "additionalProperties": false
  },
  "documentationUrl": "https://example.com/docs/<% name %>",
<%#oauth2%>
  "oauth2": {
    "provider": "<% provider %>",
    "authUrlTemplate": "https://auth.example.com/oauth/authorize?client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}&response_type=code&state={{#urlencode}}{{{ state }}}{{/urlencode}}&scope=read&code_challenge={{#urlencode}}{{{ code_challenge }}}{{/urlencode}}&code_challenge_method=S256",
    "accessTokenUrlTemplate": "https://auth.example.com/oauth/token",
    "accessTokenBody": "grant_type=authorization_code&code={{#urlencode}}{{{ code }}}{{/urlencode}}&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}&client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}&client_secret={{#urlencode}}{{{ client_secret }}}{{/urlencode}}&code_verifier={{#urlencode}}{{{ code_verifier }}}{{/urlencode}}",
    "accessTokenHeaders": {
      "content-type": "application/x-www-form-urlencoded"
    },
    "accessTokenResponseMap": {
      "refresh_token": "/refresh_token"
    }
  },
<%/oauth2%>
  "resourcePathPointers": [
    "/name"
  ]
}
