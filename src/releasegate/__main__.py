from releasegate.cli.main import main

main()
