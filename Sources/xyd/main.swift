import ArgumentParser

await XYD.main()
