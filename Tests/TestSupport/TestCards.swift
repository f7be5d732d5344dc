import CreditCore
import Foundation

/// A small card, bins and points chosen by hand.
public enum TestCards {
    public static func card(version: String = "test-1", base: Int = 600, minDataMonths: Int = 12, characteristics: String? = nil) -> String
    {
        """
        {"version": "\(version)", "description": "test", "scaling": {"base_score": 600, "base_odds": 20, "points_to_double_odds": 40},
         "base_points": \(base), "min_score": 0, "max_score": 1000, "min_data_months": \(minDataMonths),
         "grades": [{"grade": "A", "min_score": 800}, {"grade": "B", "min_score": 650}, {"grade": "C", "min_score": 500}, {"grade": "D", "min_score": 0}],
         "knockouts": [{"feature": "blacklisted_now", "equals": 1, "max_grade": "D", "reason_code": "K01_LISTED",
                        "reason_zh": "当前被列入失信名单", "reason_en": "on a dishonesty list now"}],
         "characteristics": \(characteristics ?? standard)}
        """
    }

    public static let standard = """
        [{"feature": "tax_on_time_rate_12m", "reason_code": "R03_TAX_LATE", "reason_zh": "纳税申报存在逾期", "reason_en": "tax returns filed late",
          "direction": "higher_is_better", "bins": [{"max": 8000, "points": 0}, {"min": 8000, "max": 10000, "points": 60}, {"min": 10000, "points": 100}, {"missing": true, "points": 30}]},
         {"feature": "social_insurance_arrears_12m", "reason_code": "R10_SI_ARREARS", "reason_zh": "社保存在欠缴", "reason_en": "social-insurance arrears",
          "direction": "lower_is_better", "bins": [{"max": 1, "points": 80}, {"min": 1, "max": 3, "points": 20}, {"min": 3, "points": 0}, {"missing": true, "points": 40}]},
         {"feature": "tax_credit_grade", "reason_code": "R07_TAX_GRADE", "reason_zh": "纳税信用等级偏低", "reason_en": "low taxpayer credit grade",
          "direction": "order", "order": ["A", "B", "M", "C", "D"], "bins": [{"values": ["A"], "points": 50}, {"values": ["B", "M"], "points": 30}, {"values": ["C", "D"], "points": 0}, {"missing": true, "points": 10}]},
         {"feature": "serious_penalties_36m", "reason_code": "R17_PENALTY_SERIOUS", "reason_zh": "存在严重行政处罚", "reason_en": "serious administrative penalties",
          "direction": "lower_is_better", "bins": [{"max": 1, "points": 40}, {"min": 1, "points": -100}, {"missing": true, "points": 0}]}]
        """

    public static func decode(_ text: String) throws -> Scorecard { try Scorecard.decode(Data(text.utf8)) }
}
