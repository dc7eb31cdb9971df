complete --keep-order --exclusive --command aws-assume --arguments "(COMPLETE=fish aws-assume -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
