complete --keep-order --exclusive --command aws-sso-sync --arguments "(COMPLETE=fish aws-sso-sync -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
