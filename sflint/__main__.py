from sflint.cli import main

raise SystemExit(main())
