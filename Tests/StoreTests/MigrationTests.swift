import Foundation
import PostgresNIO
import TestSupport
import Testing

@testable import Store

@Suite struct MigrationTests {
    func migrator() throws -> Migrator { try Migrator(folder: TestEnvironment.migrationsDirectory) }

    @Test func appliesOnAnEmptyDatabaseAndIsIdempotent() async throws {
        let migrator = try migrator()
        try await TestDatabase.with(migrated: false) { db in
            let first = try await migrator.migrate(db.owner)
            #expect(first == migrator.migrations.map(\.name))
            let second = try await migrator.migrate(db.owner)
            #expect(second.isEmpty)
            try await migrator.checkCurrent(db.app)
            let recorded: Int = try await db.owner.scalar("SELECT count(*)::int FROM schema_migrations")
            #expect(recorded == migrator.migrations.count)
        }
    }

    @Test func pendingMigrationsAreReportedByName() async throws {
        let migrator = try migrator()
        try await TestDatabase.with(migrated: false) { db in
            await #expect(throws: MigrationError.pending(migrator.migrations.map(\.name))) {
                try await migrator.checkCurrent(db.owner)
            }
        }
    }

    @Test func anEditedAppliedMigrationIsRefused() async throws {
        let real = try migrator()
        try await TestDatabase.with { db in
            let first = real.migrations[0]
            let edited = Migration(
                version: first.version,
                name: first.name,
                sql: first.sql + "\n-- edited",
                checksum: "0000"
            )
            let tampered = Migrator(migrations: [edited] + real.migrations.dropFirst())
            await #expect(throws: MigrationError.edited(name: first.name)) { try await tampered.migrate(db.owner) }
            await #expect(throws: MigrationError.edited(name: first.name)) { try await tampered.checkCurrent(db.owner) }
        }
    }

    @Test func aMigrationTheCodeDoesNotKnowIsRefused() async throws {
        let real = try migrator()
        try await TestDatabase.with { db in
            let older = Migrator(migrations: Array(real.migrations.dropLast()))
            await #expect(throws: MigrationError.unknownApplied(name: real.migrations.last!.name)) {
                try await older.checkCurrent(db.owner)
            }
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        let real = try migrator()
        try await TestDatabase.with { db in
            let bad = Migration(
                version: 9999,
                name: "9999_bad",
                sql: "CREATE TABLE half_done (id int);\nINSERT INTO no_such_table VALUES (1);",
                checksum: "x"
            )
            let migrator = Migrator(migrations: real.migrations + [bad])
            await #expect {
                try await migrator.migrate(db.owner)
            } throws: { error in
                guard case MigrationError.failed(let name, let statement, _) = error else { return false }
                return name == "9999_bad" && statement == 2
            }
            let table: Bool = try await db.owner.scalar("SELECT to_regclass('half_done') IS NOT NULL")
            #expect(!table)
            let recorded: Int = try await db.owner.scalar("SELECT count(*)::int FROM schema_migrations WHERE version = 9999")
            #expect(recorded == 0)
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        let migrator = try migrator()
        try await TestDatabase.with(migrated: false) { db in
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<3 { group.addTask { try await migrator.migrate(db.owner) } }
                var all: [String] = []
                for try await names in group { all += names }
                return all
            }
            #expect(applied.sorted() == migrator.migrations.map(\.name).sorted())
        }
    }

    @Test func migrationFileNamesAreChecked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xyd-mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "SELECT 1;".write(to: dir.appendingPathComponent("01_short.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.badFileName("01_short.sql")) { try Migrator(folder: dir.path) }
    }
}
