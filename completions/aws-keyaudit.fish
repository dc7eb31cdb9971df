complete --keep-order --exclusive --command aws-keyaudit --arguments "(COMPLETE=fish aws-keyaudit -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
