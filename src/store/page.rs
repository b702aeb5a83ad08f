//! Keyset pagination: lists are read as windows around the cursor, never whole.
//!
//! Every pageable list is ordered by its integer id. A window is fetched from an anchor:
//! the first or last rows, or the rows right after or right before a known id.

/// Where a page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The first rows of the list.
    First,
    /// The last rows of the list.
    Last,
    /// The rows whose id is greater than this one.
    After(i64),
    /// The rows whose id is smaller than this one.
    Before(i64),
}

/// A request for one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub anchor: Anchor,
    pub limit: u32,
}

impl PageRequest {
    /// Picks the ascending or descending statement of a pair made by `page_sql!`, and the
    /// exclusive id bound to read from. Descending reads are reversed by [`Self::finish`].
    pub(crate) fn pick(&self, sql: [&'static str; 2]) -> (&'static str, i64) {
        match self.anchor {
            Anchor::First => (sql[0], i64::MIN),
            Anchor::After(id) => (sql[0], id),
            Anchor::Last => (sql[1], i64::MAX),
            Anchor::Before(id) => (sql[1], id),
        }
    }

    /// Puts rows read in descending order back in list order.
    pub(crate) fn finish<T>(&self, mut rows: Vec<T>) -> Vec<T> {
        if matches!(self.anchor, Anchor::Last | Anchor::Before(_)) {
            rows.reverse();
        }
        rows
    }
}

/// The ascending and descending statements of a keyset page, made at compile time:
/// `page_sql!(select, filter, id_column, bound_param, limit_param)`.
macro_rules! page_sql {
    ($select:expr, $filter:expr, $id:literal, $bound:literal, $limit:literal) => {
        [
            concat!(
                $select,
                " WHERE ",
                $filter,
                " AND ",
                $id,
                " > ",
                $bound,
                " ORDER BY ",
                $id,
                " ASC LIMIT ",
                $limit
            ),
            concat!(
                $select,
                " WHERE ",
                $filter,
                " AND ",
                $id,
                " < ",
                $bound,
                " ORDER BY ",
                $id,
                " DESC LIMIT ",
                $limit
            ),
        ]
    };
}
pub(crate) use page_sql;

/// Reads one page with a statement pair made by `page_sql!` whose only binds are the id
/// bound (`?1`) and the limit (`?2`).
pub(crate) async fn fetch<T>(
    pool: &sqlx::Pool<sqlx::Sqlite>,
    sql: [&'static str; 2],
    req: PageRequest,
) -> Result<Vec<T>, super::StoreError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
{
    let (sql, bound) = req.pick(sql);
    let rows = sqlx::query_as(sql)
        .bind(bound)
        .bind(req.limit)
        .fetch_all(pool)
        .await?;
    Ok(req.finish(rows))
}

/// One page of rows, in list order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub request: PageRequest,
    pub rows: Vec<T>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descending_pages_come_back_in_order() {
        let req = PageRequest {
            anchor: Anchor::Before(10),
            limit: 3,
        };
        assert_eq!(req.finish(vec![9, 8, 7]), vec![7, 8, 9]);
    }
}
