complete --keep-order --exclusive --command aws-whoami --arguments "(COMPLETE=fish aws-whoami -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
