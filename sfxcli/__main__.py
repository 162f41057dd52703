from sfxcli.app import main

main()
