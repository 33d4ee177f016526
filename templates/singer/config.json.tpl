{
  "api_key": "replace-me",
  "page_size": 50
}
