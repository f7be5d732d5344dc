import Testing

@testable import Store

@Suite struct SQLScriptTests {
    @Test func splitsAtTopLevelSemicolons() {
        #expect(SQLScript.statements("SELECT 1; SELECT 2;\n\nSELECT 3") == ["SELECT 1", "SELECT 2", "SELECT 3"])
    }

    @Test func keepsSemicolonsInsideQuotesAndDollarQuotes() {
        let script = """
            INSERT INTO t VALUES ('a;b', 'it''s; fine');
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
            DO $body$ BEGIN PERFORM 1; END $body$;
            SELECT "odd;name" FROM t;
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 4)
        #expect(statements[0] == "INSERT INTO t VALUES ('a;b', 'it''s; fine')")
        #expect(statements[1].hasSuffix("$$ SELECT 1; $$"))
        #expect(statements[2] == "DO $body$ BEGIN PERFORM 1; END $body$")
        #expect(statements[3] == "SELECT \"odd;name\" FROM t")
    }

    @Test func ignoresSemicolonsInCommentsAndDropsCommentOnlyPieces() {
        let script = """
            -- a comment; with a semicolon
            SELECT 1; /* block; comment /* nested; */ still */
            -- trailing comment only
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 1)
        #expect(statements[0].hasSuffix("SELECT 1"))
    }

    @Test func escapeStringsKeepTheirBackslashes() {
        #expect(SQLScript.statements("SELECT E'a\\';b'; SELECT 2").count == 2)
    }
}

@Suite struct DatabaseURLTests {
    @Test func parsesAFullURL() throws {
        let url = try DatabaseURL("postgres://xyd_app:p%40ss@127.0.0.1:54329/xyd?sslmode=disable")
        #expect(url.username == "xyd_app")
        #expect(url.password == "p@ss")
        #expect(url.port == 54329)
        #expect(url.database == "xyd")
        #expect(url.tls == .disable)
        #expect(!url.description.contains("p@ss"))
    }

    @Test func defaultsTLSByHost() throws {
        #expect(try DatabaseURL("postgres://u@localhost/d").tls == .disable)
        #expect(try DatabaseURL("postgres://u@db.internal/d").tls == .require)
    }

    @Test func refusesBadURLsWithAReason() {
        #expect(throws: DatabaseURL.Invalid.self) { try DatabaseURL("mysql://u@h/d") }
        #expect(throws: DatabaseURL.Invalid.self) { try DatabaseURL("postgres://h/d") }
        #expect(throws: DatabaseURL.Invalid.self) { try DatabaseURL("postgres://u@h/") }
        #expect(throws: DatabaseURL.Invalid.self) { try DatabaseURL("postgres://u@h/d?sslmode=maybe") }
    }
}
