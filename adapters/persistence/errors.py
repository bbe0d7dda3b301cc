"""What a store that cannot be used raises, from whichever layer noticed (library, SQLAlchemy, driver, pool).

The CLI exits 7 on these and the HTTP API answers 503; neither shows the error's text to the user.
"""

import psycopg
import psycopg_pool
from eventsourcing.persistence import PersistenceError
from sqlalchemy.exc import SQLAlchemyError

STORE_ERRORS: tuple[type[Exception], ...] = (PersistenceError, SQLAlchemyError, psycopg.Error, psycopg_pool.PoolTimeout)
