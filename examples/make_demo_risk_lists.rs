//! Writes the demo's risk-list files (`assets/demo/risk-lists/*.xlsx`) in the shapes the
//! State Revenue Committee publishes: a title row or two, a header row, numbered rows, one
//! list split over two sheets, BINs stored as text and as numbers, dates as Excel dates and
//! as text. The BINs are the sandbox registry's fictitious companies.
//!
//! `cargo run --example make_demo_risk_lists -- assets/demo/risk-lists`

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};

/// (BIN, name, decision, date) rows.
type Rows<'a> = &'a [(&'a str, &'a str, &'a str, (u16, u8, u8))];

fn sheet(
    book: &mut Workbook,
    name: &str,
    title: &str,
    decision_header: &str,
    rows: Rows,
    bins_as_numbers: bool,
    dates_as_text: bool,
) -> Result<(), XlsxError> {
    let date = Format::new().set_num_format("dd.mm.yyyy");
    let bold = Format::new().set_bold();
    let ws = book.add_worksheet();
    ws.set_name(name)?;
    ws.write_string_with_format(0, 0, title, &bold)?;
    ws.write_string(1, 0, "по состоянию на 20.11.2026")?;
    for (c, h) in [
        "№ п/п",
        "БИН",
        "РНН",
        "Наименование налогоплательщика",
        "ФИО руководителя",
        "ИИН руководителя",
        decision_header,
        "Дата решения",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    for (i, (bin, who, decision, (y, m, d))) in rows.iter().enumerate() {
        let r = 4 + i as u32;
        ws.write_number(r, 0, (i + 1) as f64)?;
        if bins_as_numbers {
            ws.write_number(r, 1, bin.parse::<f64>().unwrap_or_default())?;
        } else {
            ws.write_string(r, 1, *bin)?;
        }
        ws.write_string(r, 2, "")?;
        ws.write_string(r, 3, *who)?;
        ws.write_string(r, 4, "—")?;
        ws.write_string(r, 5, "")?;
        ws.write_string(r, 6, *decision)?;
        if dates_as_text {
            ws.write_string(r, 7, format!("{d:02}.{m:02}.{y}"))?;
        } else {
            ws.write_datetime_with_format(r, 7, ExcelDateTime::from_ymd(*y, *m, *d)?, &date)?;
        }
    }
    let total = 4 + rows.len() as u32;
    ws.write_string(total, 1, "Итого")?;
    ws.write_number(total, 2, rows.len() as f64)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "assets/demo/risk-lists".into()),
    );
    std::fs::create_dir_all(&out)?;
    let files: [(&str, &str, &str, Rows, bool, bool); 6] = [
        (
            "pseudo_company.xlsx",
            "Список налогоплательщиков, признанных лжепредприятиями",
            "Номер приговора суда",
            &[
                (
                    "180840276849",
                    "ТОО \"Бос Кеңсе\"",
                    "2-1187/2026",
                    (2026, 3, 17),
                ),
                (
                    "210440323194",
                    "ТОО \"Эверест Трейд\"",
                    "1-554/2025",
                    (2025, 9, 2),
                ),
            ],
            false,
            false,
        ),
        (
            "inactive.xlsx",
            "Список налогоплательщиков, признанных бездействующими",
            "Номер приказа",
            &[(
                "070940971146",
                "ТОО \"Ремстрой-Сервис\"",
                "412",
                (2024, 5, 20),
            )],
            true,
            false,
        ),
        (
            "wrong_address.xlsx",
            "Список налогоплательщиков, отсутствующих по юридическому адресу",
            "Номер акта обследования",
            &[
                ("180840276849", "ТОО \"Бос Кеңсе\"", "А-77", (2026, 1, 12)),
                (
                    "081240797546",
                    "ТОО \"Ромашка-2008\"",
                    "А-102",
                    (2026, 6, 30),
                ),
            ],
            false,
            true,
        ),
        (
            "tax_arrears_150.xlsx",
            "Сведения о налогоплательщиках, имеющих налоговую задолженность более 150 МРП",
            "Номер уведомления",
            &[
                (
                    "120740563217",
                    "ТОО \"Долговая Нагрузка\"",
                    "У-3311",
                    (2026, 10, 1),
                ),
                (
                    "210440323194",
                    "ТОО \"Эверест Трейд\"",
                    "У-2902",
                    (2026, 10, 1),
                ),
            ],
            false,
            false,
        ),
        (
            "violation_tax_code.xlsx",
            "Список налогоплательщиков, реорганизованных с нарушением норм Налогового кодекса",
            "Номер решения",
            &[(
                "131240268463",
                "ТОО \"Реорганизация-Групп\"",
                "88-р",
                (2025, 12, 5),
            )],
            false,
            false,
        ),
        (
            "invalid_registration.xlsx",
            "Список налогоплательщиков, регистрация которых признана недействительной",
            "Номер решения суда",
            &[("150240009872", "ТОО \"Фантом\"", "2-301/2024", (2024, 4, 8))],
            false,
            false,
        ),
    ];
    for (file, title, decision, rows, numbers, text) in files {
        let mut book = Workbook::new();
        sheet(&mut book, "Лист1", title, decision, rows, numbers, text)?;
        book.save(out.join(file))?;
    }
    // The bankrupts: one list over two sheets, one per year.
    let mut book = Workbook::new();
    let title = "Список налогоплательщиков, признанных банкротами";
    sheet(
        &mut book,
        "2025",
        title,
        "Номер решения суда",
        &[(
            "050440366718",
            "ТОО \"Шаң Жол\"",
            "2-9921/2025",
            (2025, 11, 11),
        )],
        false,
        false,
    )?;
    sheet(
        &mut book,
        "2026",
        title,
        "Номер решения суда",
        &[(
            "140240018790",
            "ТОО \"Старый Долг\"",
            "2-120/2026",
            (2026, 2, 2),
        )],
        true,
        true,
    )?;
    book.save(out.join("bankrupt.xlsx"))?;
    println!("wrote 7 files to {}", out.display());
    Ok(())
}
