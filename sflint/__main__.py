from sflint.entry import main

raise SystemExit(main())
