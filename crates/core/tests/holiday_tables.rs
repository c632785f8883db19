//! An independent check of the shipped holiday data (`data/cn_holidays.json`).
//!
//! The table below is written by hand from the text of each year's
//! 国务院办公厅关于XXXX年部分节假日安排的通知 ("X月X日至X日放假调休，共N天。
//! X月X日（星期X）上班。"), not generated from the JSON. Where a later notice
//! changed an arrangement, the row follows the later notice and says so.
//!
//! For every shipped year and for the Spring Festival and the National Day
//! period of that year, a row gives: the last working day before the period,
//! its first and last day off, the first working day after it, and the weekend
//! days the notice made working days for it (调休上班).

use jiff::civil::{Date, Weekday, date};
use onewindow_core::calendar::{
    CalendarOverride, ChinaCalendar, DayKind, OverrideKind, WorkCalendar,
};
use proptest::prelude::*;

struct Row {
    year: i16,
    /// The period as the notice names it.
    period: &'static str,
    /// The notice's own words for the period.
    notice_says: &'static str,
    last_working_before: Date,
    first_off: Date,
    last_off: Date,
    first_working_after: Date,
    /// 调休上班: weekend days worked for this period.
    workdays: &'static [Date],
}

const FIRST_YEAR: i16 = 2004;

/// The last year the shipped data has an arrangement for: the table must
/// have its rows, so shipping a new year fails here until they are written.
fn last_year() -> i16 {
    ChinaCalendar::shipped()
        .shipped_years()
        .last()
        .expect("the shipped data has years")
}

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // 2004: 国办发明电〔2003〕53号
    Row { year: 2004, period: "春节", notice_says: "春节：1月22日—28日（即农历大年初一至初七）放假，共7天……1月17日、18日上班。",
          last_working_before: date(2004, 1, 21), first_off: date(2004, 1, 22), last_off: date(2004, 1, 28), first_working_after: date(2004, 1, 29),
          workdays: &[date(2004, 1, 17), date(2004, 1, 18)] },
    Row { year: 2004, period: "国庆节", notice_says: "“十一”：10月1日—7日放假，共7天……10月9日、10日上班。",
          last_working_before: date(2004, 9, 30), first_off: date(2004, 10, 1), last_off: date(2004, 10, 7), first_working_after: date(2004, 10, 8),
          workdays: &[date(2004, 10, 9), date(2004, 10, 10)] },
    // 2005: 国办发明电〔2004〕52号
    Row { year: 2005, period: "春节", notice_says: "春节：2月9日～15日（农历大年初一至初七）放假，共7天……2月5日、6日上班。",
          last_working_before: date(2005, 2, 8), first_off: date(2005, 2, 9), last_off: date(2005, 2, 15), first_working_after: date(2005, 2, 16),
          workdays: &[date(2005, 2, 5), date(2005, 2, 6)] },
    Row { year: 2005, period: "国庆节", notice_says: "“十一”：10月1日～7日放假，共7天……10月8日、9日上班。",
          last_working_before: date(2005, 9, 30), first_off: date(2005, 10, 1), last_off: date(2005, 10, 7), first_working_after: date(2005, 10, 8),
          workdays: &[date(2005, 10, 8), date(2005, 10, 9)] },
    // 2006: 国办发明电〔2005〕35号
    Row { year: 2006, period: "春节", notice_says: "春节：1月29日—2月4日（即农历大年初一至初七）放假，共7天……1月28日、2月5日上班。",
          last_working_before: date(2006, 1, 28), first_off: date(2006, 1, 29), last_off: date(2006, 2, 4), first_working_after: date(2006, 2, 5),
          workdays: &[date(2006, 1, 28), date(2006, 2, 5)] },
    Row { year: 2006, period: "国庆节", notice_says: "“十一”：10月1日—7日放假，共7天……9月30日、10月8日上班。",
          last_working_before: date(2006, 9, 30), first_off: date(2006, 10, 1), last_off: date(2006, 10, 7), first_working_after: date(2006, 10, 8),
          workdays: &[date(2006, 9, 30), date(2006, 10, 8)] },
    // 2007: 国办发明电〔2006〕49号
    Row { year: 2007, period: "春节", notice_says: "春节：2月18日—24日（即农历初一至初七）放假，共7天……17日、25日上班。",
          last_working_before: date(2007, 2, 17), first_off: date(2007, 2, 18), last_off: date(2007, 2, 24), first_working_after: date(2007, 2, 25),
          workdays: &[date(2007, 2, 17), date(2007, 2, 25)] },
    Row { year: 2007, period: "国庆节", notice_says: "“十一”：10月1日—7日放假，共7天……9月29日、30日上班。",
          last_working_before: date(2007, 9, 30), first_off: date(2007, 10, 1), last_off: date(2007, 10, 7), first_working_after: date(2007, 10, 8),
          workdays: &[date(2007, 9, 29), date(2007, 9, 30)] },
    // 2008: 国办发明电〔2007〕52号
    Row { year: 2008, period: "春节", notice_says: "春节：2月6日—12日（农历除夕至正月初六）放假，共7天……2月2日（星期六）、2月3日（星期日）上班。",
          last_working_before: date(2008, 2, 5), first_off: date(2008, 2, 6), last_off: date(2008, 2, 12), first_working_after: date(2008, 2, 13),
          workdays: &[date(2008, 2, 2), date(2008, 2, 3)] },
    Row { year: 2008, period: "国庆节", notice_says: "国庆节：9月29日—10月5日放假，共7天……9月27日（星期六）、9月28日（星期日）上班。",
          last_working_before: date(2008, 9, 28), first_off: date(2008, 9, 29), last_off: date(2008, 10, 5), first_working_after: date(2008, 10, 6),
          workdays: &[date(2008, 9, 27), date(2008, 9, 28)] },
    // 2009: 国办发明电〔2008〕42号
    Row { year: 2009, period: "春节", notice_says: "春节：1月25日至31日放假，共7天……1月24日（星期六）、2月1日（星期日）上班。",
          last_working_before: date(2009, 1, 24), first_off: date(2009, 1, 25), last_off: date(2009, 1, 31), first_working_after: date(2009, 2, 1),
          workdays: &[date(2009, 1, 24), date(2009, 2, 1)] },
    Row { year: 2009, period: "国庆节、中秋节", notice_says: "国庆节、中秋节：10月1日至8日放假，共8天……9月27日（星期日）、10月10日（星期六）上班。",
          last_working_before: date(2009, 9, 30), first_off: date(2009, 10, 1), last_off: date(2009, 10, 8), first_working_after: date(2009, 10, 9),
          workdays: &[date(2009, 9, 27), date(2009, 10, 10)] },
    // 2010: 国办发明电〔2009〕27号
    Row { year: 2010, period: "春节", notice_says: "春节：2月13日至19日放假调休，共7天。2月20日（星期六）、21日（星期日）上班。",
          last_working_before: date(2010, 2, 12), first_off: date(2010, 2, 13), last_off: date(2010, 2, 19), first_working_after: date(2010, 2, 20),
          workdays: &[date(2010, 2, 20), date(2010, 2, 21)] },
    Row { year: 2010, period: "国庆节", notice_says: "国庆节：10月1日至7日放假调休，共7天。9月26日（星期日）、10月9日（星期六）上班。",
          last_working_before: date(2010, 9, 30), first_off: date(2010, 10, 1), last_off: date(2010, 10, 7), first_working_after: date(2010, 10, 8),
          workdays: &[date(2010, 9, 26), date(2010, 10, 9)] },
    // 2011: 国办发明电〔2010〕40号
    Row { year: 2011, period: "春节", notice_says: "春节：2月2日（农历除夕）至8日放假调休，共7天。1月30日（星期日）、2月12日（星期六）上班。",
          last_working_before: date(2011, 2, 1), first_off: date(2011, 2, 2), last_off: date(2011, 2, 8), first_working_after: date(2011, 2, 9),
          workdays: &[date(2011, 1, 30), date(2011, 2, 12)] },
    Row { year: 2011, period: "国庆节", notice_says: "国庆节：10月1日至7日放假调休，共7天。10月8日（星期六）、10月9日（星期日）上班。",
          last_working_before: date(2011, 9, 30), first_off: date(2011, 10, 1), last_off: date(2011, 10, 7), first_working_after: date(2011, 10, 8),
          workdays: &[date(2011, 10, 8), date(2011, 10, 9)] },
    // 2012: 国办发明电〔2011〕45号
    Row { year: 2012, period: "春节", notice_says: "春节：1月22日至28日放假调休，共7天。1月21日（星期六）、1月29日（星期日）上班。",
          last_working_before: date(2012, 1, 21), first_off: date(2012, 1, 22), last_off: date(2012, 1, 28), first_working_after: date(2012, 1, 29),
          workdays: &[date(2012, 1, 21), date(2012, 1, 29)] },
    Row { year: 2012, period: "中秋节、国庆节", notice_says: "中秋节、国庆节：9月30日至10月7日放假调休，共8天。9月29日（星期六）上班。",
          last_working_before: date(2012, 9, 29), first_off: date(2012, 9, 30), last_off: date(2012, 10, 7), first_working_after: date(2012, 10, 8),
          workdays: &[date(2012, 9, 29)] },
    // 2013: 国办发明电〔2012〕33号
    Row { year: 2013, period: "春节", notice_says: "春节：2月9日至15日放假调休，共7天。2月16日（星期六）、2月17日（星期日）上班。",
          last_working_before: date(2013, 2, 8), first_off: date(2013, 2, 9), last_off: date(2013, 2, 15), first_working_after: date(2013, 2, 16),
          workdays: &[date(2013, 2, 16), date(2013, 2, 17)] },
    Row { year: 2013, period: "国庆节", notice_says: "国庆节：10月1日至7日放假调休，共7天。9月29日（星期日）、10月12日（星期六）上班。",
          last_working_before: date(2013, 9, 30), first_off: date(2013, 10, 1), last_off: date(2013, 10, 7), first_working_after: date(2013, 10, 8),
          workdays: &[date(2013, 9, 29), date(2013, 10, 12)] },
    // 2014: 国办发明电〔2013〕28号
    Row { year: 2014, period: "春节", notice_says: "春节：1月31日至2月6日放假调休，共7天。1月26日（星期日）、2月8日（星期六）上班。",
          last_working_before: date(2014, 1, 30), first_off: date(2014, 1, 31), last_off: date(2014, 2, 6), first_working_after: date(2014, 2, 7),
          workdays: &[date(2014, 1, 26), date(2014, 2, 8)] },
    Row { year: 2014, period: "国庆节", notice_says: "国庆节：10月1日至7日放假调休，共7天。9月28日（星期日）、10月11日（星期六）上班。",
          last_working_before: date(2014, 9, 30), first_off: date(2014, 10, 1), last_off: date(2014, 10, 7), first_working_after: date(2014, 10, 8),
          workdays: &[date(2014, 9, 28), date(2014, 10, 11)] },
    // 2015: 国办发明电〔2014〕28号
    Row { year: 2015, period: "春节", notice_says: "春节：2月18日至24日放假调休，共7天。2月15日（星期日）、2月28日（星期六）上班。",
          last_working_before: date(2015, 2, 17), first_off: date(2015, 2, 18), last_off: date(2015, 2, 24), first_working_after: date(2015, 2, 25),
          workdays: &[date(2015, 2, 15), date(2015, 2, 28)] },
    Row { year: 2015, period: "国庆节", notice_says: "国庆节：10月1日至7日放假调休，共7天。10月10日（星期六）上班。",
          last_working_before: date(2015, 9, 30), first_off: date(2015, 10, 1), last_off: date(2015, 10, 7), first_working_after: date(2015, 10, 8),
          workdays: &[date(2015, 10, 10)] },
    // 2016: 国办发明电〔2015〕18号
    Row { year: 2016, period: "春节", notice_says: "春节：2月7日至13日放假调休，共7天。2月6日（星期六）、2月14日（星期日）上班。",
          last_working_before: date(2016, 2, 6), first_off: date(2016, 2, 7), last_off: date(2016, 2, 13), first_working_after: date(2016, 2, 14),
          workdays: &[date(2016, 2, 6), date(2016, 2, 14)] },
    Row { year: 2016, period: "国庆节", notice_says: "国庆节：10月1日至7日放假调休，共7天。10月8日（星期六）、10月9日（星期日）上班。",
          last_working_before: date(2016, 9, 30), first_off: date(2016, 10, 1), last_off: date(2016, 10, 7), first_working_after: date(2016, 10, 8),
          workdays: &[date(2016, 10, 8), date(2016, 10, 9)] },
    // 2017: 国办发明电〔2016〕17号
    Row { year: 2017, period: "春节", notice_says: "春节：1月27日至2月2日放假调休，共7天。1月22日（星期日）、2月4日（星期六）上班。",
          last_working_before: date(2017, 1, 26), first_off: date(2017, 1, 27), last_off: date(2017, 2, 2), first_working_after: date(2017, 2, 3),
          workdays: &[date(2017, 1, 22), date(2017, 2, 4)] },
    Row { year: 2017, period: "中秋节、国庆节", notice_says: "中秋节、国庆节：10月1日至8日放假调休，共8天。9月30日（星期六）上班。",
          last_working_before: date(2017, 9, 30), first_off: date(2017, 10, 1), last_off: date(2017, 10, 8), first_working_after: date(2017, 10, 9),
          workdays: &[date(2017, 9, 30)] },
    // 2018: 国办发明电〔2017〕12号
    Row { year: 2018, period: "春节", notice_says: "春节：2月15日至21日放假调休，共7天。2月11日（星期日）、2月24日（星期六）上班。",
          last_working_before: date(2018, 2, 14), first_off: date(2018, 2, 15), last_off: date(2018, 2, 21), first_working_after: date(2018, 2, 22),
          workdays: &[date(2018, 2, 11), date(2018, 2, 24)] },
    Row { year: 2018, period: "国庆节", notice_says: "国庆节：10月1日至7日放假调休，共7天。9月29日（星期六）、9月30日（星期日）上班。",
          last_working_before: date(2018, 9, 30), first_off: date(2018, 10, 1), last_off: date(2018, 10, 7), first_working_after: date(2018, 10, 8),
          workdays: &[date(2018, 9, 29), date(2018, 9, 30)] },
    // 2019: 国办发明电〔2018〕15号
    Row { year: 2019, period: "春节", notice_says: "春节：2月4日至10日放假调休，共7天。2月2日（星期六）、2月3日（星期日）上班。",
          last_working_before: date(2019, 2, 3), first_off: date(2019, 2, 4), last_off: date(2019, 2, 10), first_working_after: date(2019, 2, 11),
          workdays: &[date(2019, 2, 2), date(2019, 2, 3)] },
    Row { year: 2019, period: "国庆节", notice_says: "国庆节：10月1日至7日放假调休，共7天。9月29日（星期日）、10月12日（星期六）上班。",
          last_working_before: date(2019, 9, 30), first_off: date(2019, 10, 1), last_off: date(2019, 10, 7), first_working_after: date(2019, 10, 8),
          workdays: &[date(2019, 9, 29), date(2019, 10, 12)] },
    // 2020: 国办发明电〔2019〕16号, the Spring Festival changed by 国办发明电〔2020〕1号
    // (延长2020年春节假期至2月2日，2月3日起正常上班): Saturday 1 February is no longer worked.
    Row { year: 2020, period: "春节", notice_says: "春节：1月24日至30日放假调休，共7天。1月19日（星期日）、2月1日（星期六）上班。——延长2020年春节假期至2月2日（农历正月初九，星期日），2月3日（星期一）起正常上班。",
          last_working_before: date(2020, 1, 23), first_off: date(2020, 1, 24), last_off: date(2020, 2, 2), first_working_after: date(2020, 2, 3),
          workdays: &[date(2020, 1, 19)] },
    Row { year: 2020, period: "国庆节、中秋节", notice_says: "国庆节、中秋节：10月1日至8日放假调休，共8天。9月27日（星期日）、10月10日（星期六）上班。",
          last_working_before: date(2020, 9, 30), first_off: date(2020, 10, 1), last_off: date(2020, 10, 8), first_working_after: date(2020, 10, 9),
          workdays: &[date(2020, 9, 27), date(2020, 10, 10)] },
    // 2021: 国办发明电〔2020〕27号
    Row { year: 2021, period: "春节", notice_says: "春节：2月11日至17日放假调休，共7天。2月7日（星期日）、2月20日（星期六）上班。",
          last_working_before: date(2021, 2, 10), first_off: date(2021, 2, 11), last_off: date(2021, 2, 17), first_working_after: date(2021, 2, 18),
          workdays: &[date(2021, 2, 7), date(2021, 2, 20)] },
    Row { year: 2021, period: "国庆节", notice_says: "国庆节：10月1日至7日放假调休，共7天。9月26日（星期日）、10月9日（星期六）上班。",
          last_working_before: date(2021, 9, 30), first_off: date(2021, 10, 1), last_off: date(2021, 10, 7), first_working_after: date(2021, 10, 8),
          workdays: &[date(2021, 9, 26), date(2021, 10, 9)] },
    // 2022: 国办发明电〔2021〕11号
    Row { year: 2022, period: "春节", notice_says: "春节：1月31日至2月6日放假调休，共7天。1月29日（星期六）、1月30日（星期日）上班。",
          last_working_before: date(2022, 1, 30), first_off: date(2022, 1, 31), last_off: date(2022, 2, 6), first_working_after: date(2022, 2, 7),
          workdays: &[date(2022, 1, 29), date(2022, 1, 30)] },
    Row { year: 2022, period: "国庆节", notice_says: "国庆节：10月1日至7日放假调休，共7天。10月8日（星期六）、10月9日（星期日）上班。",
          last_working_before: date(2022, 9, 30), first_off: date(2022, 10, 1), last_off: date(2022, 10, 7), first_working_after: date(2022, 10, 8),
          workdays: &[date(2022, 10, 8), date(2022, 10, 9)] },
    // 2023: 国办发明电〔2022〕16号
    Row { year: 2023, period: "春节", notice_says: "春节：1月21日至27日放假调休，共7天。1月28日（星期六）、1月29日（星期日）上班。",
          last_working_before: date(2023, 1, 20), first_off: date(2023, 1, 21), last_off: date(2023, 1, 27), first_working_after: date(2023, 1, 28),
          workdays: &[date(2023, 1, 28), date(2023, 1, 29)] },
    Row { year: 2023, period: "中秋节、国庆节", notice_says: "中秋节、国庆节：9月29日至10月6日放假调休，共8天。10月7日（星期六）、10月8日（星期日）上班。",
          last_working_before: date(2023, 9, 28), first_off: date(2023, 9, 29), last_off: date(2023, 10, 6), first_working_after: date(2023, 10, 7),
          workdays: &[date(2023, 10, 7), date(2023, 10, 8)] },
    // 2024: 国办发明电〔2023〕7号. 除夕 (9 February) was only "鼓励……安排职工休息": a working day.
    Row { year: 2024, period: "春节", notice_says: "春节：2月10日至17日放假调休，共8天。2月4日（星期日）、2月18日（星期日）上班。",
          last_working_before: date(2024, 2, 9), first_off: date(2024, 2, 10), last_off: date(2024, 2, 17), first_working_after: date(2024, 2, 18),
          workdays: &[date(2024, 2, 4), date(2024, 2, 18)] },
    Row { year: 2024, period: "国庆节", notice_says: "国庆节：10月1日至7日放假调休，共7天。9月29日（星期日）、10月12日（星期六）上班。",
          last_working_before: date(2024, 9, 30), first_off: date(2024, 10, 1), last_off: date(2024, 10, 7), first_working_after: date(2024, 10, 8),
          workdays: &[date(2024, 9, 29), date(2024, 10, 12)] },
    // 2025: 国办发明电〔2024〕12号
    Row { year: 2025, period: "春节", notice_says: "春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。",
          last_working_before: date(2025, 1, 27), first_off: date(2025, 1, 28), last_off: date(2025, 2, 4), first_working_after: date(2025, 2, 5),
          workdays: &[date(2025, 1, 26), date(2025, 2, 8)] },
    Row { year: 2025, period: "国庆节、中秋节", notice_says: "国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。",
          last_working_before: date(2025, 9, 30), first_off: date(2025, 10, 1), last_off: date(2025, 10, 8), first_working_after: date(2025, 10, 9),
          workdays: &[date(2025, 9, 28), date(2025, 10, 11)] },
    // 2026: 国办发明电〔2025〕7号
    Row { year: 2026, period: "春节", notice_says: "春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。",
          last_working_before: date(2026, 2, 14), first_off: date(2026, 2, 15), last_off: date(2026, 2, 23), first_working_after: date(2026, 2, 24),
          workdays: &[date(2026, 2, 14), date(2026, 2, 28)] },
    Row { year: 2026, period: "国庆节", notice_says: "国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。",
          last_working_before: date(2026, 9, 30), first_off: date(2026, 10, 1), last_off: date(2026, 10, 7), first_working_after: date(2026, 10, 8),
          workdays: &[date(2026, 9, 20), date(2026, 10, 10)] },
];

fn next(day: Date) -> Date {
    day.tomorrow().expect("dates stay far inside jiff's range")
}

fn is_weekend(day: Date) -> bool {
    matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

#[test]
fn the_table_covers_every_shipped_year() {
    let last = last_year();
    for year in FIRST_YEAR..=last {
        let rows: Vec<&Row> = ROWS.iter().filter(|r| r.year == year).collect();
        assert_eq!(
            rows.len(),
            2,
            "{year} is shipped: add its Spring Festival and National Day rows from the notice"
        );
        assert!(
            rows.iter().any(|r| r.period == "春节"),
            "{year}: no 春节 row"
        );
        assert!(
            rows.iter().any(|r| r.period.contains("国庆节")),
            "{year}: no 国庆节 row"
        );
    }
    // The table itself: only shipped years, dates in order, and the notices
    // only ever moved work onto weekends.
    for r in ROWS {
        assert!(
            (FIRST_YEAR..=last).contains(&r.year),
            "{}: a row for a year the data does not ship",
            r.year
        );
        let what = format!("{} {}", r.year, r.period);
        assert!(r.last_working_before < r.first_off, "{what}: table order");
        assert!(r.first_off <= r.last_off, "{what}: table order");
        assert!(r.last_off < r.first_working_after, "{what}: table order");
        for &w in r.workdays {
            assert!(is_weekend(w), "{what}: {w} is not a weekend day");
        }
    }
}

#[test]
fn spring_festival_and_national_day_match_the_notices() {
    let cal: &ChinaCalendar = ChinaCalendar::shipped();
    let mut failures = Vec::new();
    for r in ROWS {
        let what = format!("{} {} ({})", r.year, r.period, r.notice_says);

        let mut day = r.first_off;
        while day <= r.last_off {
            let kind = cal.day_kind(day);
            if kind != DayKind::Holiday {
                failures.push(format!("{what}: {day} should be a holiday, is {kind:?}"));
            }
            day = next(day);
        }

        for &w in r.workdays {
            let kind = cal.day_kind(w);
            if kind != DayKind::Workday {
                failures.push(format!(
                    "{what}: {w} (调休上班) should be a workday, is {kind:?}"
                ));
            }
        }

        for (label, edge) in [
            ("last working day before", r.last_working_before),
            ("first working day after", r.first_working_after),
        ] {
            let kind = cal.day_kind(edge);
            if kind != DayKind::Workday {
                failures.push(format!(
                    "{what}: {label} {edge} should be a workday, is {kind:?}"
                ));
            }
        }

        // Nothing between the last working day before and the first working day
        // after is a working day, apart from adjusted workdays the notice put there.
        let mut chain: Vec<Date> = r
            .workdays
            .iter()
            .copied()
            .filter(|&w| r.last_working_before < w && w < r.first_working_after)
            .collect();
        chain.sort();
        chain.push(r.first_working_after);
        let mut day = next(r.last_working_before);
        while day < r.first_working_after {
            if cal.is_working_day(day) && !chain.contains(&day) {
                failures.push(format!("{what}: {day} should not be a working day"));
            }
            day = next(day);
        }
        for (n, &expected) in chain.iter().enumerate() {
            let got = cal.add_working_days(r.last_working_before, n as u32 + 1);
            if got != expected {
                failures.push(format!(
                    "{what}: {} + {} working day(s) should be {expected}, is {got}",
                    r.last_working_before,
                    n + 1
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn spot_checks_a_clerk_would_know() {
    let cal: &ChinaCalendar = ChinaCalendar::shipped();
    #[rustfmt::skip]
    let days: &[(Date, DayKind, &str)] = &[
        (date(2024, 2, 4), DayKind::Workday, "2024年春节调休：2月4日（星期日）上班"),
        (date(2024, 2, 18), DayKind::Workday, "2024年春节调休：2月18日（星期日）上班"),
        (date(2024, 2, 9), DayKind::Workday, "2024年除夕只是“鼓励”安排休息，不是放假"),
        (date(2024, 3, 2), DayKind::Restday, "普通星期六"),
        (date(2024, 3, 4), DayKind::Workday, "普通星期一"),
        (date(2015, 9, 3), DayKind::Holiday, "抗战胜利70周年纪念日：9月3日放假"),
        (date(2015, 9, 4), DayKind::Holiday, "9月4日（星期五）调休"),
        (date(2015, 9, 5), DayKind::Holiday, "9月3日至5日调休放假，共3天"),
        (date(2015, 9, 6), DayKind::Workday, "9月6日（星期日）上班"),
        (date(2005, 12, 31), DayKind::Workday, "2006年通知：12月31日（星期六）上班"),
        (date(2006, 12, 30), DayKind::Workday, "2007年通知：2006年12月30日（星期六）上班"),
        (date(2006, 12, 31), DayKind::Workday, "2007年通知：2006年12月31日（星期日）上班"),
        (date(2007, 4, 5), DayKind::Workday, "2008年以前清明节不放假"),
        (date(2007, 12, 29), DayKind::Workday, "2008年通知：12月29日（星期六）上班"),
        (date(2007, 12, 31), DayKind::Holiday, "2008年元旦：2007年12月30日至2008年1月1日"),
        (date(2011, 12, 31), DayKind::Workday, "2012年通知：2011年12月31日（星期六）上班"),
        (date(2014, 1, 30), DayKind::Workday, "2014年起除夕不放假：春节1月31日起"),
        (date(2018, 12, 29), DayKind::Workday, "2019年通知：2018年12月29日（星期六）上班"),
        (date(2018, 12, 31), DayKind::Holiday, "2019年元旦：2018年12月30日至2019年1月1日"),
        (date(2019, 5, 2), DayKind::Holiday, "调整2019年劳动节：5月1日至4日放假"),
        (date(2019, 5, 5), DayKind::Workday, "调整2019年劳动节：5月5日（星期日）上班"),
        (date(2020, 1, 31), DayKind::Holiday, "延长2020年春节假期"),
        (date(2020, 2, 1), DayKind::Holiday, "延长2020年春节假期至2月2日：2月1日不再上班"),
        (date(2020, 2, 3), DayKind::Workday, "2月3日（星期一）起正常上班"),
        (date(2022, 12, 31), DayKind::Holiday, "2023年元旦：2022年12月31日至2023年1月2日"),
        (date(2023, 4, 5), DayKind::Holiday, "2023年清明节：4月5日放假"),
        (date(2026, 1, 4), DayKind::Workday, "2026年元旦：1月4日（周日）上班"),
        (date(2026, 2, 28), DayKind::Workday, "2026年春节：2月28日（周六）上班"),
        (date(2026, 9, 20), DayKind::Workday, "2026年国庆节：9月20日（周日）上班"),
    ];
    let mut failures = Vec::new();
    for &(day, expected, why) in days {
        let kind = cal.day_kind(day);
        if kind != expected {
            failures.push(format!("{day}: expected {expected:?}, is {kind:?} — {why}"));
        }
    }
    #[rustfmt::skip]
    let deadlines: &[(Date, u32, Date, &str)] = &[
        (date(2025, 1, 27), 1, date(2025, 2, 5), "2025年春节前最后一个工作日起算1个工作日"),
        (date(2024, 2, 8), 1, date(2024, 2, 9), "2024年除夕是工作日"),
        (date(2024, 2, 9), 1, date(2024, 2, 18), "2024年春节后第一个工作日是2月18日（星期日）"),
        (date(2015, 9, 2), 1, date(2015, 9, 6), "2015年9月6日（星期日）上班"),
        (date(2020, 1, 23), 1, date(2020, 2, 3), "延长后的2020年春节"),
    ];
    for &(start, n, expected, why) in deadlines {
        let got = cal.add_working_days(start, n);
        if got != expected {
            failures.push(format!(
                "{start} + {n} working day(s): expected {expected}, is {got} — {why}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Local overrides as an administrator might set them: closure days and
/// extra working days anywhere from 2004 through 2031, every region's.
fn any_overrides() -> impl Strategy<Value = Vec<CalendarOverride>> {
    proptest::collection::vec((0i32..10_227, any::<bool>()), 0..40).prop_map(|days| {
        days.into_iter()
            .enumerate()
            .map(|(i, (offset, closure))| CalendarOverride {
                id: i as i64 + 1,
                region: String::new(),
                date: date(2004, 1, 1) + jiff::Span::new().days(offset),
                kind: if closure {
                    OverrideKind::Closure
                } else {
                    OverrideKind::Workday
                },
                reason: "本地调整".into(),
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// With any local overrides, `add` lands on a working day, each further
    /// working day ends strictly later, and counting back gives n.
    #[test]
    fn adding_working_days_stays_exact_with_local_overrides(
        overrides in any_overrides(),
        start_offset in 0i32..10_000,
        amounts in proptest::collection::vec(0u32..400, 1..20),
    ) {
        let calendar = ChinaCalendar::shipped().with_overrides("430423", &overrides);
        let start = date(2004, 1, 1) + jiff::Span::new().days(start_offset);
        for n in amounts {
            let due = calendar.add_working_days(start, n);
            if n > 0 {
                prop_assert!(calendar.is_working_day(due), "{start} + {n} = {due}");
            }
            prop_assert!(calendar.add_working_days(start, n + 1) > due, "{start} + {n}");
            prop_assert_eq!(calendar.working_days_between(start, due), i64::from(n));
        }
    }
}
