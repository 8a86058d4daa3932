from longdep.dashboard.app import main

main()
